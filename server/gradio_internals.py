"""Every use of Gradio's private internals, in one place.

Gradio has no public way to check inputs before a handler with our own messages, to know which session a
request belongs to from deep inside the engine, to drop a closed session's state at once, to see its queue,
or to find its cached copy of a file. What the app needs of each is here and nowhere else:

* :class:`StudioBlocks` overrides ``Blocks.process_api`` and ``Blocks.preprocess_data`` and reads Gradio's
  input-error texts (:func:`input_message`);
* :func:`current_session` and :func:`in_session` read and set ``gradio.context.LocalContext.request``;
* :func:`drop_session_state` empties ``app.state_holder``;
* :func:`pending_events` reads ``blocks._queue.event_ids_to_events``;
* :func:`cache_folder` knows the layout of Gradio's file cache (``<cache>/<sha of the content>/<name>``).

``tests/test_gradio_internals.py`` runs each against a real Gradio app, so an upgrade that moves one fails
there, and checks that no other module reaches for these names.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
from gradio.context import LocalContext
from gradio.processing_utils import hash_file
from gradio.utils import get_upload_folder

from core import validate
from server.errors import refuse, to_user_error
from server.guard import NOT_AN_UPLOAD

log = logging.getLogger("music_studio")


# --- the request being handled -----------------------------------------------------------------------

def current_session() -> str | None:
    """The browser (or gradio_client) session of the request being handled, if any."""
    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None)


@contextlib.contextmanager
def in_session(session: str | None) -> Iterator[None]:
    """Run the body as if handling a request of ``session`` (for tests and scripts: output paths, the ledger)."""
    token = LocalContext.request.set(SimpleNamespace(session_hash=session))
    try:
        yield
    finally:
        LocalContext.request.reset(token)


def drop_session_state(request) -> None:
    """Forget a session's ``gr.State`` values now (``request`` is the ``gr.Request`` of an ``unload`` event).

    Gradio keeps a closed session's state for an hour in case the tab comes back.
    """
    session = getattr(request, "session_hash", None)
    holder = getattr(getattr(getattr(request, "request", None), "app", None), "state_holder", None)
    if holder is None or not session:
        return
    holder.delete_state(session)
    with holder.lock:
        holder.session_data.pop(session, None)


# --- the queue -----------------------------------------------------------------------------------------

def blocks_of(request) -> gr.Blocks | None:
    """The running app a ``gr.Request`` was made to, or None (a request made up in a test)."""
    app = getattr(getattr(request, "request", None), "app", None)
    return getattr(app, "get_blocks", lambda: None)()


@dataclass(frozen=True)
class PendingEvent:
    """An event in Gradio's queue, waiting or running, as the app needs to see it."""

    session_hash: str
    #: the HTTP request that queued it (its ``client.host`` is the client's address)
    request: object
    concurrency_id: str | None
    #: the listener's validator (``None`` when it has none)
    validator: Callable | None


def pending_events(blocks) -> list[PendingEvent] | None:
    """The events of ``blocks``' queue that are waiting or running (not closed), or None when it has no queue.

    Gradio has no public view of its queue; this is the one place that reads it.
    """
    queue = getattr(blocks, "_queue", None)
    if queue is None:
        return None
    return [PendingEvent(e.session_hash, e.request, e.concurrency_id, getattr(e.fn, "validator", None))
            for e in list(queue.event_ids_to_events.values()) if not getattr(e, "closed", False)]


# --- Gradio's file cache -----------------------------------------------------------------------------------

def cache_root() -> Path:
    """Gradio's file cache (uploads and its copies of the files handlers hand back)."""
    return Path(get_upload_folder()).resolve()


def cache_folder(path: Path) -> Path:
    """The folder where Gradio's cache keeps its copy of ``path`` (content-addressed: ``<cache>/<sha>/<name>``).

    Reads the whole file; ``OSError`` when it cannot.
    """
    return cache_root() / hash_file(path)


# --- input checks with one clear message --------------------------------------------------------------------

_event_start_hooks: list[Callable[[str | None], None]] = []


def on_event_start(hook: Callable[[str | None], None]) -> Callable[[str | None], None]:
    """Have ``hook(session_hash)`` called as each event's handler starts (not its validator). A decorator."""
    _event_start_hooks.append(hook)
    return hook


def _is_validator(block_fn) -> bool:
    return getattr(block_fn, "is_validator_function", False)


class StudioBlocks(gr.Blocks):
    """``gr.Blocks`` whose input checks answer API clients with one clear message.

    Gradio checks each input before the handler runs; a wrong type (None for a slider, a bare server path
    for a file) then reaches the client as "the upstream app raised an exception" and the log as a traceback.
    Here it is a ``gr.Error`` naming the input, what it expected and what came, and one log line.
    """

    async def process_api(self, block_fn, inputs, state=None, request=None, iterator=None, session_hash=None,
                          *args, **kwargs):
        if not _is_validator(block_fn):
            for hook in _event_start_hooks:
                hook(session_hash)
        return await super().process_api(block_fn, inputs, state, request, iterator, session_hash, *args, **kwargs)

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        if not _is_validator(block_fn):
            try:
                check_numbers(block_fn, inputs)
            except ValueError as err:
                raise refuse(str(err), block_fn.name) from None
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except Exception as err:
            if _is_validator(block_fn):
                # A validator (the one-long-job check) cannot send a message for a bad input: Gradio answers
                # a bare 400. Let it pass; the handler's own input check then fails with the clear message.
                return [None] * len(block_fn.inputs)
            if isinstance(err, gr.Error):  # Gradio's own checks (choices, minimum): already clear
                raise to_user_error(err, block_fn.name) from None
            # ComponentProcessingError, pydantic's ValidationError for files, bad paths
            log.info("input of %s not read: %s", block_fn.name, str(err).splitlines()[0][:300] if str(err) else err)
            raise refuse(input_message(block_fn, err), block_fn.name) from None


def check_numbers(block_fn, inputs) -> None:
    """Every number input within its component's range, named by its label (Gradio's own check names neither)."""
    for block, value in zip(block_fn.inputs, inputs):
        if not isinstance(block, (gr.Slider, gr.Number)) or (value is None and isinstance(block, gr.Number)):
            continue
        if getattr(block, "checked_in_core", False):  # a slider relabelled per choice: its handler checks it
            continue
        low, high = getattr(block, "minimum", None), getattr(block, "maximum", None)
        validate.number(value, f"'{block.label or block.get_block_name()}'",
                        -math.inf if low is None else low, math.inf if high is None else high,
                        integer=getattr(block, "precision", None) == 0)


def input_names(block_fn) -> list[str]:
    """What a client calls each input: a component's label, or for ``gr.api`` its parameter's name."""
    if block_fn.inputs and all(type(b).__name__ == "Api" for b in block_fn.inputs):
        params = [p for p in inspect.signature(block_fn.fn).parameters.values() if p.annotation is not gr.Request
                  and p.name != "request"]
        return [p.name for p in params][:len(block_fn.inputs)]
    return [getattr(b, "label", None) or b.get_block_name() for b in block_fn.inputs]


def input_message(block_fn, err: Exception) -> str:
    """Gradio's error for an input it could not read, as one sentence naming the input (its texts are private)."""
    text = str(err)
    counts = re.search(r"needed: (\d+), got: (\d+)", text)
    if counts:
        names = ", ".join(input_names(block_fn))
        return (f"This endpoint takes {counts.group(1)} values ({names}); it got {counts.group(2)}. Send every value "
                "in order (gradio_client fills in the defaults).")
    m = re.search(r"at index (\d+)", text)
    if m and int(m.group(1)) < len(block_fn.inputs):
        block = block_fn.inputs[int(m.group(1))]
        name = getattr(block, "label", None) or block.get_block_name()
        expected = re.search(r"Expected a `([^`]+)`", text)
        got = re.search(r"the event handler was: (.*?) \(of type", text, re.S)
        return (f"'{name}' got {got.group(1) if got else 'a value it cannot use'}"
                + (f"; it takes a {expected.group(1)}." if expected else "."))
    if "FileData" in text or "not uploaded by a user" in text:
        # one message whatever the path, so that an answer never tells which server files exist
        return NOT_AN_UPLOAD.format(what="A file input")
    return f"An input could not be read: {text.splitlines()[0] if text else type(err).__name__}."
