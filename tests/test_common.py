"""Shared tab helpers: handed-back files are per session and swept, heavy handlers share one limit,
long jobs are one per session, user errors are one log line, cancelled work stops."""
import logging
import os
import threading
import time
from types import SimpleNamespace

import gradio as gr
import pytest

from core.training import Cancelled, check_cancel
from tabs import common


def _age(path, seconds):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_output_paths_are_unique_per_call_and_old_ones_are_swept():
    a, b = common.output_path("x.csv"), common.output_path("x.csv")
    assert a != b and a.parent.parent.parent == common.OUTPUT_ROOT
    a.write_text("old")
    _age(a.parent, common.OUTPUT_TTL_S + 10)
    assert common.sweep_outputs() >= 1 and not a.parent.exists() and b.parent.exists()


def test_outputs_over_the_cap_go_oldest_first():
    old, new = common.output_path("old.bin"), common.output_path("new.bin")
    old.write_bytes(b"x" * 2000)
    new.write_bytes(b"x" * 2000)
    _age(old.parent, 100)
    common.sweep_outputs(cap_bytes=3000)
    assert not old.exists() and new.exists()


def test_files_live_in_the_requesting_sessions_folder_and_go_when_it_ends(monkeypatch):
    from gradio.context import LocalContext

    token = LocalContext.request.set(SimpleNamespace(session_hash="sess-a"))
    try:
        path = common.output_path("a.wav")
    finally:
        LocalContext.request.reset(token)
    assert path.parent.parent == common.OUTPUT_ROOT / "sess-a"
    path.write_text("x")
    common.release_session(SimpleNamespace(session_hash="sess-a", request=None))
    assert not (common.OUTPUT_ROOT / "sess-a").exists()


def test_release_session_drops_the_sessions_state_now():
    from gradio.state_holder import StateHolder

    holder = StateHolder()
    demo = gr.Blocks()
    with demo:
        gr.State(None)
    holder.set_blocks(demo)
    holder["sess-b"]  # creates the session's state
    request = SimpleNamespace(session_hash="sess-b", request=SimpleNamespace(app=SimpleNamespace(state_holder=holder)))
    common.release_session(request)
    assert "sess-b" not in holder.session_data


def test_session_store_keeps_one_value_per_session_bounded_and_released_on_leave(monkeypatch):
    store = common.session_store(ttl_s=60.0, max_sessions=2, in_use_s=0.0)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" is now the most recently used
    store.put("c", 3)
    assert store.get("b") is None and store.get("a") == 1 and len(store) == 2
    common.release_session(SimpleNamespace(session_hash="a", request=None))
    assert store.get("a") is None and store.get("c") == 3
    clock = time.monotonic() + 61
    monkeypatch.setattr(common.time, "monotonic", lambda: clock)
    assert store.get("c") is None  # an hour (here a minute) after its last use
    with pytest.raises(ValueError, match="needs a session"):
        store.put(None, 4)


def test_a_session_in_use_is_never_evicted_by_new_sessions_they_are_refused(monkeypatch):
    store = common.session_store(ttl_s=3600.0, max_sessions=2, in_use_s=600.0, what="searches")
    store.put("a", 1)
    store.put("b", 2)
    for newcomer in ("c", "d", "e"):
        with pytest.raises(ValueError, match="holding 2 searches that are in use"):
            store.put(newcomer, 3)
    assert store.get("a") == 1 and store.get("b") == 2
    store.put("a", 10)  # a session replacing its own value is never refused
    clock = time.monotonic() + 601
    monkeypatch.setattr(common.time, "monotonic", lambda: clock)
    store.put("c", 3)  # once idle for longer than in_use_s, the least recently used may go
    assert len(store) == 2 and store.get("c") == 3


def _request(session, events=()):
    queue = SimpleNamespace(event_ids_to_events={str(i): e for i, e in enumerate(events)})
    blocks = SimpleNamespace(_queue=queue)
    return SimpleNamespace(session_hash=session, request=SimpleNamespace(app=SimpleNamespace(get_blocks=lambda: blocks)))


def test_a_second_long_job_from_one_session_is_refused_and_others_are_not():
    def job(audio, model, progress=gr.Progress()):
        pass

    validator = common.one_long_job(job)
    running = SimpleNamespace(session_hash="s1", fn=SimpleNamespace(validator=validator), closed=False)
    other_fn = SimpleNamespace(session_hash="s1", fn=SimpleNamespace(validator=None), closed=False)
    common._reserved.clear()
    refused = validator("a.wav", "cnn", _request("s1", [running]))
    assert refused[0] == gr.validate(False, common.LONG_JOB_BUSY) and len(refused) == 2
    assert all(v["is_valid"] for v in validator("a.wav", "cnn", _request("s2", [running, other_fn])))
    # the same session asking twice at once: the first is reserved until it is queued
    assert validator("a.wav", "cnn", _request("s3"))[0]["is_valid"]
    assert not validator("a.wav", "cnn", _request("s3"))[0]["is_valid"]


def test_the_long_job_validator_takes_the_handlers_inputs_plus_the_request():
    import inspect

    def job(dry, wet, model, steps, progress=gr.Progress()):
        pass

    params = list(inspect.signature(common.one_long_job(job)).parameters.values())
    assert [p.name for p in params] == ["dry", "wet", "model", "steps", "request"]
    assert params[-1].annotation is gr.Request


def test_heavy_handlers_share_one_concurrency_group_one_larger_than_a_clients_cap_on_cpu():
    from server.fairness import PER_CLIENT

    assert common.heavy() == {"concurrency_id": "heavy", "concurrency_limit": PER_CLIENT + 1}


def test_every_heavy_listener_in_the_app_is_in_a_shared_group_and_long_jobs_have_their_own():
    import app

    demo = app.build_app()
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    for name in ("analyse", "genre", "classify_instrument", "generate", "search_load", "api_analysis", "api_genre",
                 "api_instruments", "api_tags", "api_generate", "api_transcribe", "api_search_start"):
        assert fns[name].concurrency_id == "heavy" and fns[name].concurrency_limit == 3, name
    for name in ("tag_instruments", "effects_apply", "effects_capture", "api_effects_process"):
        assert fns[name].concurrency_id == "long" and fns[name].concurrency_limit == 2, name
    for name in ("tag_instruments", "effects_apply", "effects_capture"):
        assert getattr(fns[name].validator, "long_job", False), name
    assert fns["search_yes"].concurrency_id != "heavy"  # answers never wait behind long jobs
    assert any(t[1] == "unload" for fn in demo.fns.values() for t in fn.targets)  # sessions are released


def test_gradio_cache_is_cleaned_hourly():
    import app

    assert app.build_app().delete_cache == (3600, 7200)


def test_a_user_error_is_one_log_line_and_a_bug_keeps_its_traceback(caplog):
    @common.user_errors
    def bad_input():
        raise ValueError("The tempo must be a number.")

    @common.user_errors
    def bug():
        raise KeyError("internal")

    caplog.set_level(logging.INFO, logger="music_studio")
    with pytest.raises(gr.Error) as err:
        bad_input()
    assert err.value.message == "The tempo must be a number." and err.value.print_exception is False
    assert [r.exc_info for r in caplog.records] == [None] and "tempo" in caplog.records[0].getMessage()
    caplog.clear()
    with pytest.raises(gr.Error, match="Something went wrong \\(KeyError\\)"):
        bug()
    assert caplog.records[0].levelno == logging.ERROR and caplog.records[0].exc_info is not None


def test_user_errors_wraps_generators_too():
    @common.user_errors
    def gen():
        yield 1
        raise ValueError("bad value")

    it = gen()
    assert next(it) == 1
    with pytest.raises(gr.Error, match="bad value"):
        next(it)


def test_closing_an_in_background_job_cancels_its_work():
    stopped = threading.Event()

    def work(cancel, report):
        try:
            for _ in range(200):
                check_cancel(cancel)
                report(0.5, "half")
                time.sleep(0.05)
        except Cancelled:
            stopped.set()
            raise
        return "finished"

    jobs = common.in_background(work)
    next(jobs)
    jobs.close()  # what Gradio does to a cancelled generator handler
    assert stopped.wait(2.0)


def test_in_background_returns_the_result_and_raises_the_error():
    def run(work):
        jobs = common.in_background(work)
        try:
            while True:
                next(jobs)
        except StopIteration as done:
            return done.value

    assert run(lambda cancel, report: 42) == 42
    with pytest.raises(ZeroDivisionError):
        run(lambda cancel, report: 1 / 0)


def test_a_cancellable_handler_stops_deep_work_when_its_request_is_closed():
    """The engine's loops call check_cancel() with no argument: closing the handler reaches them."""
    stopped = threading.Event()

    @common.cancellable
    def handler(x):
        try:
            for _ in range(400):
                check_cancel()  # as the backbone does per batch
                time.sleep(0.01)
        except Cancelled:
            stopped.set()
            raise
        return x

    outputs = handler(1)
    assert next(outputs) == gr.skip()  # while it works, it shows nothing and can be closed
    outputs.close()
    assert stopped.wait(1.0)


def test_a_cancellable_handler_relays_what_it_yields_its_result_and_its_error():
    from tests.conftest import produced

    @common.cancellable
    def steps():
        yield "first look"
        yield "every excerpt"

    @common.cancellable
    def plain(x):
        return x * 2

    @common.cancellable
    def broken():
        raise ValueError("bad input")

    assert produced(steps()) == ["first look", "every excerpt"]
    assert produced(plain(21)) == [42]
    with pytest.raises(ValueError, match="bad input"):
        produced(broken())


def test_the_musicnn_backbone_stops_between_batches_when_its_job_is_cancelled():
    import numpy as np

    from core.backbones import musicnn
    from core.training import cancel_scope

    net = musicnn.Musicnn()
    with cancel_scope(lambda: True), pytest.raises(Cancelled):
        net.embed(np.zeros((8, musicnn.PATCH_FRAMES, musicnn.N_MELS), np.float32))


class _InSession:
    """Code run as if handling a request of ``session``."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        from gradio.context import LocalContext

        self.token = LocalContext.request.set(SimpleNamespace(session_hash=self.session))

    def __exit__(self, *exc):
        from gradio.context import LocalContext

        LocalContext.request.reset(self.token)


def _gradio_copy(cache, content: bytes, name: str):
    """A file as Gradio keeps it: ``<cache>/<sha of its content>/<name>``."""
    from gradio.processing_utils import hash_file

    tmp = cache / "tmp-for-hash"
    tmp.write_bytes(content)
    folder = cache / hash_file(tmp)
    tmp.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return folder


def test_a_released_session_takes_gradio_copies_of_its_results_but_not_uploads_or_what_others_hold(monkeypatch,
                                                                                                   tmp_path):
    cache = tmp_path / "gradio"
    cache.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    mine, shared, theirs = (_gradio_copy(cache, c, n) for c, n in
                            [(b"my upload", "a.wav"), (b"same example", "ex.wav"), (b"their upload", "b.wav")])
    with _InSession("sess-mine"):
        common.note_request([str(mine / "a.wav"), {"path": str(shared / "ex.wav")}])
        out = common.output_path("plot.png")
    out.write_bytes(b"my plot")
    plot_copy = _gradio_copy(cache, b"my plot", "plot.png")  # what Gradio made of the handed-back file
    with _InSession("sess-theirs"):
        common.note_request([str(theirs / "b.wav"), str(shared / "ex.wav")], api=True)
    same_plot = _gradio_copy(cache, b"their plot", "plot.png")
    with _InSession("sess-theirs"):
        theirs_out = common.output_path("plot.png")
    theirs_out.write_bytes(b"their plot")
    common.release_session(SimpleNamespace(session_hash="sess-mine", request=None))
    assert not plot_copy.exists() and not out.parent.exists()  # what it was handed goes with it
    # uploads stay (another tab may have just uploaded the same file), and so does what another session holds
    assert mine.exists() and shared.exists() and theirs.exists() and same_plot.exists()
    common.release("sess-theirs")
    assert not same_plot.exists()


def test_a_job_that_outlives_its_session_cannot_write_into_it():
    common.release("sess-gone")
    with _InSession("sess-gone"), pytest.raises(Cancelled):
        common.output_path("late.wav")
    assert not (common.OUTPUT_ROOT / "sess-gone").exists()


def test_sessions_seen_only_through_the_api_are_released_when_idle(monkeypatch):
    with _InSession("sess-api"):
        common.note_request(api=True)
        path = common.output_path("result.wav")
    path.write_text("x")
    with _InSession("sess-page"):
        common.note_request()
    assert common.release_idle_sessions() == 0 and path.exists()  # still in use
    clock = time.monotonic() + common.API_IDLE_S + 1
    monkeypatch.setattr(common.time, "monotonic", lambda: clock)
    assert common.release_idle_sessions() == 1 and not path.exists()  # the page's session is kept longer
    clock += common.OUTPUT_TTL_S
    assert common.release_idle_sessions() == 1


def test_at_shutdown_every_handed_back_file_and_this_process_cache_go(monkeypatch, tmp_path):
    import asyncio

    import app

    root = tmp_path / "music_studio_1"
    cache = tmp_path / "music_studio_1_gradio"
    (root / "sess").mkdir(parents=True)
    (cache / "abc").mkdir(parents=True)
    monkeypatch.setattr(common, "OUTPUT_ROOT", root)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))

    async def serve():
        async with app.lifespan(None):
            assert root.exists()

    # in a thread of its own: an earlier test may have left an event loop running in this one
    done = threading.Thread(target=lambda: asyncio.run(serve()))
    done.start()
    done.join(10)
    assert not root.exists() and not cache.exists()
