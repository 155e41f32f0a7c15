"""server/gradio_internals.py against a real Gradio app, so that an upgrade that moves what it reaches for
(``Blocks.process_api`` and ``preprocess_data``, ``LocalContext``, the ``state_holder``, the queue's events,
the cache's layout, the texts of Gradio's input errors) fails here, and no other module reaches for them.

One small ``StudioBlocks`` app is launched on a free port and called as a client would: through
gradio_client, and raw REST where gradio_client would fill in what the test leaves out.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import gradio as gr
import pytest

from server import files, gradio_internals
from server.fairness import pending_by_client
from server.gradio_internals import StudioBlocks, current_session, pending_events
from server.guard import NOT_AN_UPLOAD
from server.jobs import LONG_JOB_BUSY, one_long_job

gradio_client = pytest.importorskip("gradio_client")
httpx = pytest.importorskip("httpx")

ROOT = Path(__file__).resolve().parent.parent
#: Names of Gradio's private internals: only server/gradio_internals.py (and this test) may use them.
PRIVATE = re.compile(r"\b(process_api|preprocess_data|state_holder|LocalContext|event_ids_to_events)\b"
                     r"|(?<![A-Za-z0-9])_queue\b")
ALLOWED = {ROOT / "server" / "gradio_internals.py", Path(__file__).resolve()}
#: Folders that are not the project's own code.
SKIP_DIRS = {"__pycache__", "node_modules", "runs", "test-output", "build", "dist"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    """The launched app, what its handlers saw, and a way to let its long job finish."""

    def __init__(self):
        self.seen: dict[str, object] = {}  # handler name -> what it recorded
        self.started: list[str | None] = []  # sessions whose handlers the event-start hook saw
        self.hold = threading.Event()  # the long job runs until this is set
        self.demo: gr.Blocks | None = None
        self.validator = None  # the long job's
        self.url = ""


@pytest.fixture(scope="module")
def live():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    state = Live()

    def tempo(bpm):
        return bpm

    def pair(a, b):
        return f"{a}{b}"

    def read(path):
        return Path(path).name

    def whoami(count, request: gr.Request):
        state.seen["whoami"] = (current_session(), request.session_hash, request)
        return (count or 0) + 1, (count or 0) + 1

    def capture(dry, wet):  # two inputs, as the app's long jobs have
        state.hold.wait(30)
        return dry + wet

    def handout(content):
        path = files.output_path("result.txt")
        path.write_text(content)
        state.seen["handout"] = path
        return str(path)

    def api_pair(first: str, second: str) -> str:
        return first + second

    hook = gradio_internals.on_event_start(state.started.append)
    with StudioBlocks() as demo:
        bpm = gr.Slider(40, 240, value=120, label="Tempo")
        a, b, text = gr.Textbox(label="First"), gr.Textbox(label="Second"), gr.Textbox()
        upload = gr.File(label="Recording", type="filepath")
        count, number = gr.State(0), gr.Number()
        gr.Button().click(tempo, bpm, number, api_name="tempo")
        gr.Button().click(pair, [a, b], text, api_name="pair")
        gr.Button().click(read, upload, text, api_name="read")
        gr.Button().click(whoami, count, [count, number], api_name="whoami")
        state.validator = one_long_job(capture)
        gr.Button().click(capture, [a, b], text, api_name="capture", concurrency_id="long", concurrency_limit=2,
                          validator=state.validator)
        gr.Button().click(handout, text, gr.File(), api_name="handout")
        gr.api(api_pair, api_name="api_pair")
    demo.queue()
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                allowed_paths=[str(files.OUTPUT_ROOT)])
    state.demo, state.url = demo, f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        state.hold.set()
        demo.close()
        gradio_internals._event_start_hooks.remove(hook)


def _error(client, api_name: str, *args) -> str:
    with pytest.raises(Exception) as err:  # gradio_client's AppError (a handler's) or ValidationError
        client.predict(*args, api_name=api_name)
    return str(err.value)


def _raw(url: str, name: str, data: list) -> tuple[str, str]:
    """("complete" | "error", the last data line) for one raw REST call (nothing filled in for the client)."""
    answer = httpx.post(f"{url}/gradio_api/call/{name}", json={"data": data}, timeout=30)
    assert answer.status_code == 200, answer.text
    text = httpx.get(f"{url}/gradio_api/call/{name}/{answer.json()['event_id']}", timeout=30).text
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    datas = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("data: ")]
    return events[-1], datas[-1]


def test_a_number_out_of_range_is_refused_by_its_label_before_the_handler(live):
    client = gradio_client.Client(live.url, verbose=False)
    assert client.predict(100, api_name="/tempo") == 100
    message = _error(client, "/tempo", 500)
    assert "'Tempo' must be a number between 40 and 240; got 500" in message, message


def test_too_few_values_are_named_by_label_and_by_parameter_for_gr_api(live):
    outcome, message = _raw(live.url, "pair", ["only one"])
    assert outcome == "error" and "This endpoint takes 2 values (First, Second); it got 1" in message, message
    outcome, message = _raw(live.url, "api_pair", ["only one"])
    assert outcome == "error" and "takes 2 values (first, second); it got 1" in message, message
    assert _raw(live.url, "api_pair", ["a", "b"]) == ("complete", '["ab"]')


def test_a_server_path_for_a_file_is_refused_with_the_one_message(live):
    client = gradio_client.Client(live.url, verbose=False)
    expected = NOT_AN_UPLOAD.format(what="A file input")
    assert expected in _error(client, "/read", "/etc/hostname")
    outcome, message = _raw(live.url, "read", [{"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}])
    assert outcome == "error" and "handle_file" in message and "Traceback" not in message, message


def test_a_handler_knows_its_session_and_a_released_session_loses_its_state(live, tmp_path):
    client = gradio_client.Client(live.url, verbose=False)
    assert client.predict(api_name="/whoami") == 1
    assert client.predict(api_name="/whoami") == 2  # the session's gr.State is kept between calls
    session, request_session, request = live.seen["whoami"]
    assert session == request_session == client.session_hash
    assert client.session_hash in live.started  # the event-start hook saw the handler's session
    app = live.demo.server_app
    assert client.session_hash in app.state_holder
    files.release_session(request)  # what demo.unload does when the tab closes
    assert client.session_hash not in app.state_holder
    assert client.predict(api_name="/whoami") == 1  # a fresh state


def test_the_queue_is_read_one_long_job_per_session_and_pending_events_per_client(live):
    client, other = (gradio_client.Client(live.url, verbose=False) for _ in range(2))
    live.hold.clear()
    job = client.submit("first", "!", api_name="/capture")
    deadline = time.time() + 30
    while not any(e.session_hash == client.session_hash for e in pending_events(live.demo) or ()):
        assert time.time() < deadline, "the long job never reached the queue"
        time.sleep(0.05)
    try:
        (event,) = [e for e in pending_events(live.demo) if e.session_hash == client.session_hash]
        assert event.concurrency_id == "long" and getattr(event.validator, "long_job", False)
        assert event.request.client.host == "127.0.0.1"
        assert pending_by_client(live.demo)["127.0.0.1"] == 1
        message = _error(client, "/capture", "second", "!")  # the same session: refused at the door
        assert LONG_JOB_BUSY in message, message
        # another session may queue one (asked of the validator alone: its job would wait for the first one)
        assert all(v["is_valid"] for v in live.validator("x", "y", _OtherSession(other.session_hash, live.demo)))
    finally:
        live.hold.set()
    assert job.result(timeout=30) == "first!"
    deadline = time.time() + 10
    while pending_by_client(live.demo)["127.0.0.1"]:
        assert time.time() < deadline, "the finished job stayed in the queue"
        time.sleep(0.05)


class _OtherSession:
    """Just enough of a ``gr.Request`` of another session to the launched app for its validator."""

    def __init__(self, session_hash: str, demo: gr.Blocks):
        self.session_hash = session_hash
        self.request = type("R", (), {"app": demo.server_app})()


def test_gradio_keeps_a_handed_back_file_where_a_release_looks_for_it(live):
    client = gradio_client.Client(live.url, verbose=False)
    content = f"result of {client.session_hash}"
    client.predict(content, api_name="/handout")
    path = live.seen["handout"]
    assert path.parent.parent == files.OUTPUT_ROOT / client.session_hash
    folder = gradio_internals.cache_folder(path)
    assert folder.parent == gradio_internals.cache_root() and (folder / path.name).read_text() == content
    files.release(client.session_hash)
    assert not folder.exists() and not path.exists()


def _project_files():
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and not d.endswith(".egg-info")]
        yield from (Path(folder) / n for n in names if n.endswith(".py"))


def test_no_module_but_gradio_internals_uses_gradios_private_internals():
    found = [f"{path.relative_to(ROOT)}:{i}: {line.strip()}"
             for path in _project_files() if path.resolve() not in ALLOWED
             for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if PRIVATE.search(line)]
    assert not found, "Gradio's internals outside server/gradio_internals.py:\n" + "\n".join(found)
