"""The server runtime the tabs use: handed-back files are per session and swept, heavy handlers share one
limit, long jobs are one per session, user errors are one log line, cancelled work stops."""
import logging
import os
import threading
import time
from types import SimpleNamespace

import gradio as gr
import pytest

from core.training import Cancelled, check_cancel
from server import files, jobs, sessions
from server.gradio_internals import PendingEvent, in_session


def _age(path, seconds):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_output_paths_are_unique_per_call_and_old_ones_are_swept():
    a, b = files.output_path("x.csv"), files.output_path("x.csv")
    assert a != b and a.parent.parent.parent == files.OUTPUT_ROOT
    a.write_text("old")
    _age(a.parent, files.OUTPUT_TTL_S + 10)
    assert files.sweep_outputs() >= 1 and not a.parent.exists() and b.parent.exists()


def test_outputs_over_the_cap_go_oldest_first():
    old, new = files.output_path("old.bin"), files.output_path("new.bin")
    old.write_bytes(b"x" * 2000)
    new.write_bytes(b"x" * 2000)
    _age(old.parent, 100)
    files.sweep_outputs(cap_bytes=3000)
    assert not old.exists() and new.exists()


def test_files_live_in_the_requesting_sessions_folder_and_go_when_it_ends():
    with in_session("sess-a"):
        path = files.output_path("a.wav")
    assert path.parent.parent == files.OUTPUT_ROOT / "sess-a"
    path.write_text("x")
    files.release_session(SimpleNamespace(session_hash="sess-a", request=None))
    assert not (files.OUTPUT_ROOT / "sess-a").exists()


def test_session_store_keeps_one_value_per_session_bounded_and_released_on_leave(monkeypatch):
    store = sessions.session_store(ttl_s=60.0, max_sessions=2, in_use_s=0.0)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" is now the most recently used
    store.put("c", 3)
    assert store.get("b") is None and store.get("a") == 1 and len(store) == 2
    files.release_session(SimpleNamespace(session_hash="a", request=None))
    assert store.get("a") is None and store.get("c") == 3
    clock = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    assert store.get("c") is None  # an hour (here a minute) after its last use
    with pytest.raises(ValueError, match="needs a session"):
        store.put(None, 4)


def test_a_session_in_use_is_never_evicted_by_new_sessions_they_are_refused(monkeypatch):
    store = sessions.session_store(ttl_s=3600.0, max_sessions=2, in_use_s=600.0, what="searches")
    store.put("a", 1)
    store.put("b", 2)
    for newcomer in ("c", "d", "e"):
        with pytest.raises(ValueError, match="holding 2 searches that are in use"):
            store.put(newcomer, 3)
    assert store.get("a") == 1 and store.get("b") == 2
    store.put("a", 10)  # a session replacing its own value is never refused
    clock = time.monotonic() + 601
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    store.put("c", 3)  # once idle for longer than in_use_s, the least recently used may go
    assert len(store) == 2 and store.get("c") == 3


@pytest.fixture
def request_to(monkeypatch):
    """``request_to(session, events)``: a request of ``session`` to an app whose queue holds ``events``
    (the validator against Gradio's real queue: tests/test_gradio_internals.py)."""
    monkeypatch.setattr(jobs, "blocks_of", lambda request: request.queue)
    monkeypatch.setattr(jobs, "pending_events", lambda queue: queue)
    return lambda session, events=(): SimpleNamespace(session_hash=session, queue=list(events))


def test_a_second_long_job_from_one_session_is_refused_and_others_are_not(request_to):
    def job(audio, model, progress=gr.Progress()):
        pass

    validator = jobs.one_long_job(job)
    running = PendingEvent("s1", None, "long", validator)
    other_fn = PendingEvent("s1", None, "heavy", None)
    jobs._reserved.clear()
    refused = validator("a.wav", "cnn", request_to("s1", [running]))
    assert refused[0] == gr.validate(False, jobs.LONG_JOB_BUSY) and len(refused) == 2
    assert all(v["is_valid"] for v in validator("a.wav", "cnn", request_to("s2", [running, other_fn])))
    # the same session asking twice at once: the first is reserved until it is queued
    assert validator("a.wav", "cnn", request_to("s3"))[0]["is_valid"]
    assert not validator("a.wav", "cnn", request_to("s3"))[0]["is_valid"]


def test_a_long_job_with_one_input_answers_one_check_not_a_list(request_to):
    """Gradio wraps a single output's value in a list: a one-item list would be read as no check at all."""
    def job(audio, progress=gr.Progress()):
        pass

    validator = jobs.one_long_job(job)
    jobs._reserved.clear()
    assert validator("a.wav", request_to("s4")) == gr.validate(True, "")
    assert validator("a.wav", request_to("s4")) == gr.validate(False, jobs.LONG_JOB_BUSY)


def test_the_long_job_validator_takes_the_handlers_inputs_plus_the_request():
    import inspect

    def job(dry, wet, model, steps, progress=gr.Progress()):
        pass

    params = list(inspect.signature(jobs.one_long_job(job)).parameters.values())
    assert [p.name for p in params] == ["dry", "wet", "model", "steps", "request"]
    assert params[-1].annotation is gr.Request


def test_heavy_handlers_share_one_concurrency_group_one_larger_than_a_clients_cap_on_cpu():
    from server.fairness import PER_CLIENT

    assert jobs.heavy() == {"concurrency_id": "heavy", "concurrency_limit": PER_CLIENT + 1}


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
    @jobs.user_errors
    def bad_input():
        raise ValueError("The tempo must be a number.")

    @jobs.user_errors
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
    @jobs.user_errors
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

    running = jobs.in_background(work)
    next(running)
    running.close()  # what Gradio does to a cancelled generator handler
    assert stopped.wait(2.0)


def test_in_background_returns_the_result_and_raises_the_error():
    def run(work):
        running = jobs.in_background(work)
        try:
            while True:
                next(running)
        except StopIteration as done:
            return done.value

    assert run(lambda cancel, report: 42) == 42
    with pytest.raises(ZeroDivisionError):
        run(lambda cancel, report: 1 / 0)


def test_a_cancellable_handler_stops_deep_work_when_its_request_is_closed():
    """The engine's loops call check_cancel() with no argument: closing the handler reaches them."""
    stopped = threading.Event()

    @jobs.cancellable
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

    @jobs.cancellable
    def steps():
        yield "first look"
        yield "every excerpt"

    @jobs.cancellable
    def plain(x):
        return x * 2

    @jobs.cancellable
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
    with in_session("sess-mine"):
        files.note_request([str(mine / "a.wav"), {"path": str(shared / "ex.wav")}])
        out = files.output_path("plot.png")
    out.write_bytes(b"my plot")
    plot_copy = _gradio_copy(cache, b"my plot", "plot.png")  # what Gradio made of the handed-back file
    with in_session("sess-theirs"):
        files.note_request([str(theirs / "b.wav"), str(shared / "ex.wav")], api=True)
    same_plot = _gradio_copy(cache, b"their plot", "plot.png")
    with in_session("sess-theirs"):
        theirs_out = files.output_path("plot.png")
    theirs_out.write_bytes(b"their plot")
    files.release_session(SimpleNamespace(session_hash="sess-mine", request=None))
    assert not plot_copy.exists() and not out.parent.exists()  # what it was handed goes with it
    # uploads stay (another tab may have just uploaded the same file), and so does what another session holds
    assert mine.exists() and shared.exists() and theirs.exists() and same_plot.exists()
    files.release("sess-theirs")
    assert not same_plot.exists()


def test_a_job_that_outlives_its_session_cannot_write_into_it():
    files.release("sess-gone")
    with in_session("sess-gone"), pytest.raises(Cancelled):
        files.output_path("late.wav")
    assert not (files.OUTPUT_ROOT / "sess-gone").exists()


def test_sessions_seen_only_through_the_api_are_released_when_idle(monkeypatch):
    with in_session("sess-api"):
        files.note_request(api=True)
        path = files.output_path("result.wav")
    path.write_text("x")
    with in_session("sess-page"):
        files.note_request()
    assert files.release_idle_sessions() == 0 and path.exists()  # still in use
    clock = time.monotonic() + files.API_IDLE_S + 1
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    assert files.release_idle_sessions() == 1 and not path.exists()  # the page's session is kept longer
    clock += files.OUTPUT_TTL_S
    assert files.release_idle_sessions() == 1


def test_at_shutdown_every_handed_back_file_and_this_process_cache_go(monkeypatch, tmp_path):
    import asyncio

    import app

    root = tmp_path / "music_studio_1"
    cache = tmp_path / "music_studio_1_gradio"
    (root / "sess").mkdir(parents=True)
    (cache / "abc").mkdir(parents=True)
    monkeypatch.setattr(files, "OUTPUT_ROOT", root)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))

    async def serve():
        async with app.lifespan(None):
            assert root.exists()

    # in a thread of its own: an earlier test may have left an event loop running in this one
    done = threading.Thread(target=lambda: asyncio.run(serve()))
    done.start()
    done.join(10)
    assert not root.exists() and not cache.exists()
