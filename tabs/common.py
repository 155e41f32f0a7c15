"""Helpers every tab shares: turning core errors into one clear message, example files, output paths."""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import math
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
from gradio.context import LocalContext
from gradio.processing_utils import hash_file
from gradio.utils import get_upload_folder

from core import registry, validate
from core.audio import AUDIO_EXTENSIONS, AudioError
from core.training import Cancelled, cancel_scope, check_cancel
from server.fairness import concurrency
from server.guard import NOT_AN_UPLOAD, is_upload

log = logging.getLogger("music_studio")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "assets" / "examples"
#: Upload limit handed to ``launch(max_file_size=...)``; the loaders cap duration too.
MAX_UPLOAD = "50mb"
#: Longest audio any tab analyses; longer uploads are cut to this and the user is told.
MAX_SECONDS = 600.0


def refuse(message: str, where: str = "") -> gr.Error:
    """The ``gr.Error`` for a user's mistake: one log line, no traceback (those are for bugs)."""
    log.info("refused%s: %s", f" in {where}" if where else "", message)
    return gr.Error(message, print_exception=False)


def to_user_error(err: BaseException, where: str = "") -> gr.Error:
    """Any exception as the one message a user sees (the UI and an API client alike).

    ``AudioError`` and ``ValueError`` carry messages written for users; anything else is a bug: it is logged
    with its traceback on the server and the user sees a short apology naming the error type.
    """
    if isinstance(err, gr.Error):
        if err.print_exception:  # raised by a tab or by Gradio's own checks (choices, minimum): still a user error
            log.info("refused%s: %s", f" in {where}" if where else "", err.message)
            err.print_exception = False
        return err
    if isinstance(err, (AudioError, ValueError)):
        return refuse(str(err), where)
    if isinstance(err, MemoryError):
        return refuse("The input is too large to process in memory; try a shorter excerpt.", where)
    log.error("unexpected error in %s", where or "a handler", exc_info=err)
    return gr.Error(f"Something went wrong ({type(err).__name__}); the server log has the details.",
                    print_exception=False)


def user_errors(fn):
    """Show bad input as one ``gr.Error`` message, and never a traceback (see :func:`to_user_error`)."""

    if inspect.isgeneratorfunction(fn):  # errors of a generator surface while it is iterated
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            note_request(args)
            try:
                return (yield from fn(*args, **kwargs))
            except Exception as err:
                raise to_user_error(err, fn.__name__) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        note_request(args)
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            raise to_user_error(err, fn.__name__) from None

    return wrapper


class StudioBlocks(gr.Blocks):
    """``gr.Blocks`` whose input checks answer API clients with one clear message.

    Gradio checks each input before the handler runs; a wrong type (None for a slider, a bare server path
    for a file) then reaches the client as "the upstream app raised an exception" and the log as a traceback.
    Here it is a ``gr.Error`` naming the input, what it expected and what came, and one log line.
    """

    async def process_api(self, block_fn, inputs, state=None, request=None, iterator=None, session_hash=None,
                          *args, **kwargs):
        if not getattr(block_fn, "is_validator_function", False):
            _started(session_hash)
        return await super().process_api(block_fn, inputs, state, request, iterator, session_hash, *args, **kwargs)

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        if not getattr(block_fn, "is_validator_function", False):
            try:
                _check_numbers(block_fn, inputs)
            except ValueError as err:
                raise refuse(str(err), block_fn.name) from None
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except Exception as err:
            if getattr(block_fn, "is_validator_function", False):
                # A validator (the one-long-job check) cannot send a message for a bad input: Gradio answers
                # a bare 400. Let it pass; the handler's own input check then fails with the clear message.
                return [None] * len(block_fn.inputs)
            if isinstance(err, gr.Error):  # Gradio's own checks (choices, minimum): already clear
                raise to_user_error(err, block_fn.name) from None
            # ComponentProcessingError, pydantic's ValidationError for files, bad paths
            log.info("input of %s not read: %s", block_fn.name, str(err).splitlines()[0][:300] if str(err) else err)
            raise refuse(_input_message(block_fn, err), block_fn.name) from None


def _check_numbers(block_fn, inputs) -> None:
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


def _input_names(block_fn) -> list[str]:
    """What a client calls each input: a component's label, or for ``gr.api`` its parameter's name."""
    if block_fn.inputs and all(type(b).__name__ == "Api" for b in block_fn.inputs):
        params = [p for p in inspect.signature(block_fn.fn).parameters.values() if p.annotation is not gr.Request
                  and p.name != "request"]
        return [p.name for p in params][:len(block_fn.inputs)]
    return [getattr(b, "label", None) or b.get_block_name() for b in block_fn.inputs]


def _input_message(block_fn, err: Exception) -> str:
    text = str(err)
    counts = re.search(r"needed: (\d+), got: (\d+)", text)
    if counts:
        names = ", ".join(_input_names(block_fn))
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


def intro(what: str, details: str = "") -> None:
    """A tab's opening: what it does and what to do, in a sentence or two; how it works in a closed fold.
    Commands, environment variables and checksums belong in docs/, not on the page."""
    gr.Markdown(what, elem_classes=["tab-intro"])
    if details:
        with gr.Accordion("How it works", open=False):
            gr.Markdown(details)


def shown(value) -> dict:
    """A result element's update: its value, visible only when there is one. Results appear with their first
    figure, and a model without figures shows no empty frames (a fresh page at phone width was mostly frames)."""
    return gr.update(value=value, visible=value is not None)


def example_audio() -> list[str]:
    """Bundled example recordings, sorted by name."""
    return sorted(str(p) for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)


#: Files handed back live in one folder per process, a folder per browser session below it. They are
#: removed when the session ends (:func:`release_session`), after ``OUTPUT_TTL_S``, and oldest first once
#: the folder passes ``OUTPUT_CAP_BYTES`` (Gradio has copied them into its own cache by then, which
#: ``gr.Blocks(delete_cache=...)`` cleans).
OUTPUT_TTL_S = 3600
OUTPUT_CAP_BYTES = 1 << 30
OUTPUT_ROOT = Path(tempfile.gettempdir()) / f"music_studio_{os.getpid()}"


def _session_hash() -> str | None:
    """The browser (or gradio_client) session of the request being handled, if any."""
    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def sweep_outputs(max_age_s: float = OUTPUT_TTL_S, cap_bytes: int = OUTPUT_CAP_BYTES) -> int:
    """Remove handed-back files older than ``max_age_s``, then the oldest until under ``cap_bytes``.

    Returns how many folders went.
    """
    if not OUTPUT_ROOT.is_dir():
        return 0
    now, removed = time.time(), 0
    calls = []
    for d in list(OUTPUT_ROOT.glob("*/out_*")):
        try:
            mtime = d.stat().st_mtime
        except FileNotFoundError:  # another request swept it first
            continue
        if now - mtime > max_age_s:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
        else:
            calls.append((mtime, d))
    total = sum(_size(d) for _, d in calls)
    for _, d in sorted(calls):
        if total <= cap_bytes:
            break
        total -= _size(d)
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    for session in OUTPUT_ROOT.iterdir():  # empty session folders
        try:
            session.rmdir()
        except OSError:
            pass
    return removed


#: At most one sweep this often: a search answer hands back three files, and a sweep walks every folder.
SWEEP_EVERY_S = 30.0
_last_sweep = {"t": -math.inf}
_sweep_lock = threading.Lock()


def output_path(name: str) -> Path:
    """A fresh path for a file handed back to one user: a folder per call, under the caller's session folder.

    Old folders are swept (:func:`sweep_outputs`) on the way, at most every ``SWEEP_EVERY_S``, so the disk
    stays bounded without a directory walk per file.
    """
    now = time.monotonic()
    with _sweep_lock:
        due = now - _last_sweep["t"] >= SWEEP_EVERY_S
        if due:
            _last_sweep["t"] = now
    if due:
        sweep_outputs()
    session = _session_hash() or "no-session"
    if session in _released:  # a job that outlived its session (closed tab, cancelled call): nobody to hand it to
        raise Cancelled()
    folder = OUTPUT_ROOT / session
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="out_", dir=folder)) / name


class SessionStore:
    """Per-session objects for endpoints that cannot hold a ``gr.State`` (``gr.api``), keyed by Gradio's
    session hash, which gradio_client keeps for the life of a ``Client``.

    Bounded: an entry goes when its session ends (:func:`release_session`), ``ttl_s`` after its last use, or,
    past ``max_sessions``, the least recently used one idle for over ``in_use_s``. An entry used more recently
    than that is never evicted by other sessions: a new session is refused instead, with a clear message.
    """

    def __init__(self, ttl_s: float = 3600.0, max_sessions: int = 16, in_use_s: float = 600.0,
                 what: str = "sessions"):
        self.ttl_s, self.max_sessions, self.in_use_s, self.what = ttl_s, max_sessions, in_use_s, what
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        for key in [k for k, (t, _) in self._items.items() if now - t > self.ttl_s]:
            del self._items[key]

    def _make_room(self, now: float) -> None:
        while len(self._items) >= self.max_sessions:
            oldest = min(self._items, key=lambda k: self._items[k][0])
            if now - self._items[oldest][0] <= self.in_use_s:
                raise ValueError(f"The server is holding {len(self._items)} {self.what} that are in use; "
                                 f"try again in a few minutes.")
            del self._items[oldest]

    def get(self, session: str | None):
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if session not in self._items:
                return None
            _, value = self._items[session]
            self._items[session] = (now, value)
            return value

    def put(self, session: str | None, value) -> None:
        if not session:
            raise ValueError("This endpoint needs a session: call it through gradio_client or the browser.")
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            self._items.pop(session, None)  # the old value goes before the new one counts
            self._make_room(now)
            self._items[session] = (now, value)

    def pop(self, session: str | None) -> None:
        with self._lock:
            self._items.pop(session, None)

    def __len__(self) -> int:
        return len(self._items)


#: Every store whose entries :func:`release_session` drops when a session ends.
SESSION_STORES: list[SessionStore] = []


def session_store(**kwargs) -> SessionStore:
    store = SessionStore(**kwargs)
    SESSION_STORES.append(store)
    return store


#: Sessions released in the last ``OUTPUT_TTL_S`` (a late job must not recreate their folder), when they went.
_released: dict[str, float] = {}
#: Every session's last request, and whether it used the JSON endpoints (no browser says when those leave).
_seen: dict[str, tuple[float, bool]] = {}
#: Per session, the folders of Gradio's cache holding its uploads (their copies go with the session).
_uploads: dict[str, set[Path]] = {}
#: A session seen only through the JSON endpoints is released this long after its last call.
API_IDLE_S = 900.0
_ledger_lock = threading.Lock()


def note_request(args=(), api: bool = False) -> None:
    """Record what the current request's session holds: the uploads among ``args``, and API use."""
    session = _session_hash()
    if not session:
        return
    folders = set()
    for value in args:
        value = value.get("path") if isinstance(value, dict) else getattr(value, "path", value)
        if isinstance(value, (str, os.PathLike)) and str(value) and is_upload(value):
            folders.add(Path(value).resolve().parent)
    with _ledger_lock:
        if folders:
            _uploads.setdefault(session, set()).update(folders)
        _seen[session] = (time.monotonic(), api or _seen.get(session, (0.0, False))[1])


_hashes: dict[tuple, str] = {}


def _cache_copy(path: Path) -> Path | None:
    """Where Gradio's cache keeps its copy of a file handed back (content-addressed: ``<cache>/<sha>/<name>``)."""
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in _hashes:
            _hashes[key] = hash_file(path)
        return Path(get_upload_folder()).resolve() / _hashes[key]
    except OSError:
        return None


def _session_cache(session: str, uploads: bool = True) -> set[Path]:
    """Folders of Gradio's cache that hold this session's handed-back files (and its uploads)."""
    outputs = OUTPUT_ROOT / session
    copies = {_cache_copy(f) for f in outputs.rglob("*") if f.is_file()} if outputs.is_dir() else set()
    with _ledger_lock:
        return (copies - {None}) | (set(_uploads.get(session, ())) if uploads else set())


def release(session: str) -> None:
    """Drop a session's files (ours and Gradio's copies of what it was handed) and its stored state.

    Gradio's cache is content-addressed, so a folder another live session also holds (the same example,
    the same plot) stays. Uploads stay too, until Gradio's hourly clean-up or shutdown: the same file uploaded
    by another tab a second ago lands in the same folder before any handler has seen it, and deleting it then
    lost that user's input ("the file does not exist" on their next click).
    """
    if not session:
        return
    mine = _session_cache(session, uploads=False)
    with _ledger_lock:
        others = [s for s in set(_uploads) | set(_seen) if s != session]
    if OUTPUT_ROOT.is_dir():
        others += [d.name for d in OUTPUT_ROOT.iterdir() if d.name != session and d.name not in others]
    for other in others:
        mine -= _session_cache(other)
    cache_root = Path(get_upload_folder()).resolve()
    for folder in mine:
        if folder.parent == cache_root:  # never anything outside Gradio's own cache
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(OUTPUT_ROOT / session, ignore_errors=True)
    with _ledger_lock:
        _uploads.pop(session, None)
        _seen.pop(session, None)
        now = time.monotonic()
        _released[session] = now
        for s_, t in list(_released.items()):
            if now - t > OUTPUT_TTL_S:
                del _released[s_]
    for store in SESSION_STORES:
        store.pop(session)
    for key in [k for k in list(_hashes) if not os.path.exists(k[0])]:
        _hashes.pop(key, None)


def release_idle_sessions(api_idle_s: float = API_IDLE_S, idle_s: float = OUTPUT_TTL_S) -> int:
    """Release sessions that used the JSON endpoints and are idle for ``api_idle_s`` (no browser unloads them),
    and any session idle for ``idle_s`` (a script on the UI's endpoints, a browser that never said goodbye)."""
    now = time.monotonic()
    with _ledger_lock:
        idle = [s for s, (t, api) in _seen.items() if now - t > (api_idle_s if api else idle_s)]
    for session in idle:
        release(session)
    return len(idle)


def release_session(request: gr.Request) -> None:
    """When a browser session ends (``demo.unload``): drop its files and its state now, not an hour later.

    Gradio keeps a closed session's ``gr.State`` for an hour in case the tab comes back; a search session
    holds a whole track, so twelve closed sessions held 1.3 GB.
    """
    session = getattr(request, "session_hash", None)
    if not session:
        return
    release(session)
    holder = getattr(getattr(getattr(request, "request", None), "app", None), "state_holder", None)
    if holder is not None:
        holder.delete_state(session)
        with holder.lock:
            holder.session_data.pop(session, None)
    _give_memory_back()


def release_all() -> None:
    """At shutdown: every handed-back file goes, and the per-process Gradio cache when this process made it."""
    shutil.rmtree(OUTPUT_ROOT, ignore_errors=True)
    cache = os.environ.get("GRADIO_TEMP_DIR", "")
    if cache and Path(cache).name.startswith(f"{OUTPUT_ROOT.name}_gradio"):
        shutil.rmtree(cache, ignore_errors=True)


def _libc():
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): the defaults stay
        return None


def _give_memory_back() -> None:
    """Free what only the cycle collector can (matplotlib figures are cycles, each holding its pixel buffers),
    then return the freed heap to the system: glibc keeps it otherwise, and resident memory only grows."""
    import gc

    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


#: How often the memory keeper collects and trims (seconds); a collection takes ~0.1 s of one core.
KEEPER_INTERVAL_S = 10.0


def keep_memory_flat(interval_s: float = KEEPER_INTERVAL_S) -> threading.Thread:
    """Bound glibc's heap for a long-running server, and collect and trim every ``interval_s``.

    Measured with ``bench/bench_soak.py`` (8 clients, 200 requests after 48 of warm-up): with nothing, resident
    memory grew 12 % and peaked at 2.4 GB; collecting and trimming alone left 960 MB at rest (+4 %). The
    allocator settings: two malloc arenas instead of one per thread, and fixed mmap / trim thresholds, so
    glibc's dynamic threshold cannot creep up after large frees and park big arrays in a fragmenting heap.
    They are set high (32 / 64 MB): a 256 kB mmap threshold kept memory flatter still but made every torch
    buffer a fresh page-faulted mapping, and the genre model 45 % slower (7.1 s instead of 4.9 s on a
    3-minute song). Call before threads start.
    """
    libc = _libc()
    if libc is not None:
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
        libc.mallopt(M_ARENA_MAX, 2)
        libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024)

    def loop():
        while True:
            time.sleep(interval_s)
            try:
                release_idle_sessions()
            except Exception:  # the keeper must outlive any one bad folder
                log.exception("releasing idle sessions failed")
            _give_memory_back()

    thread = threading.Thread(target=loop, name="memory-keeper", daemon=True)
    thread.start()
    return thread


# --- long jobs: at most one queued or running per session --------------------------------------

#: Seconds a validated long job may take to appear in the queue (validation and queueing are one step).
_RESERVE_S = 2.0
_reserved: dict[str, float] = {}
_reserved_lock = threading.Lock()


def _long_job_running(queue, session: str) -> bool:
    return any(e.session_hash == session and getattr(getattr(e.fn, "validator", None), "long_job", False)
               and not getattr(e, "closed", False) for e in list(queue.event_ids_to_events.values()))


def one_long_job(fn):
    """A Gradio validator for ``fn`` (a long job) that refuses a second long job from the same session.

    Validators run when an event is queued, before it waits for a worker, so a flood of captures from one
    client is refused at the door instead of filling the queue for everyone. The answer goes to the browser
    and to API clients alike.
    """
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not isinstance(p.default, gr.Progress)]

    def validator(*args):
        request = args[-1]
        session = getattr(request, "session_hash", None)
        queue = getattr(getattr(getattr(request, "request", None), "app", None), "get_blocks", lambda: None)()
        queue = getattr(queue, "_queue", None)
        ok = [gr.validate(True, "") for _ in params]
        if not session or queue is None:
            return ok
        now = time.monotonic()
        with _reserved_lock:
            for s, t in list(_reserved.items()):
                if now - t > _RESERVE_S:
                    del _reserved[s]
            busy = session in _reserved or _long_job_running(queue, session)
            if not busy:
                _reserved[session] = now
        if busy:
            log.info("refused a second long job (%s) from one session", fn.__name__)
            return [gr.validate(False, LONG_JOB_BUSY)] + ok[1:]
        return ok

    validator.__signature__ = inspect.Signature(
        [p.replace(default=inspect.Parameter.empty, annotation=inspect.Parameter.empty) for p in params]
        + [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)])
    validator.__annotations__ = {"request": gr.Request}
    validator.long_job = True
    return validator


LONG_JOB_BUSY = ("You already have a long job (a capture, a batch of files or an effect) queued or running. "
                 "Wait for it to finish, or stop it, before starting another.")


def _started(session: str | None) -> None:
    """An event of ``session`` is being run: its long-job reservation is no longer needed (the queue shows it)."""
    if session:
        with _reserved_lock:
            _reserved.pop(session, None)


def long_job(fn) -> dict:
    """Event options for a long job: the long-job group (its own workers) plus the one-per-session validator."""
    return {**concurrency("long", registry.device().type == "cuda"), "validator": one_long_job(fn)}


# --- work that stops when the user (or an API client) cancels ----------------------------------

class _Job:
    """One request's work in a thread of its own, inside a :func:`~core.training.cancel_scope`: :meth:`close`
    (the request went) sets the cancel that the work checks, and the log says how long it took to stop."""

    def __init__(self, name: str, run, on_end=lambda: None):
        self.name, self.stop, self.error, self.result, self.closed_at = name, threading.Event(), None, None, None
        context = contextvars.copy_context()  # the request's context: its session folder, progress bar, toasts

        def scoped():
            with cancel_scope(self.stop.is_set):  # inside the request's context, where the engine looks
                return run(self.stop.is_set)

        def target():
            try:
                self.result = context.run(scoped)
            except BaseException as err:  # handed to the request thread
                self.error = err
            finally:
                if self.closed_at is not None:
                    log.info("%s stopped %.2f s after its request was closed", name, time.monotonic() - self.closed_at)
                on_end()

        self.thread = threading.Thread(target=target, daemon=True, name=f"studio-{name}")
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():  # closed early: the request was cancelled or its client went away
            self.closed_at = time.monotonic()
            log.info("cancelled: %s", self.name)
        self.stop.set()

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


def in_background(work, progress=None, desc: str = "Working", busy=lambda msg: msg):
    """Run ``work(cancel, report)`` in a thread; a generator that yields while it runs and returns its result.

    Gradio cannot stop a plain function's thread when a request is cancelled, so a cancelled client's long
    effect ran to the end. Handlers written as generators are closed on cancel: the ``finally`` below then sets
    ``cancel``, which the work checks between chunks (``core.training.Cancelled``). ``report(fraction, message)``
    feeds the progress bar; ``busy(message)`` is what the handler yields meanwhile (its outputs, mostly
    ``gr.skip()``). Use as ``result = yield from in_background(...)``.
    """
    status = {"frac": 0.0, "msg": desc}
    job = _Job(desc, lambda cancel: work(cancel, lambda f, m: status.update(frac=f, msg=m)))
    try:
        while job.thread.is_alive():
            if progress is not None:
                progress(status["frac"], desc=status["msg"])
            yield busy(status["msg"])
            job.thread.join(0.5)
    finally:
        job.close()  # cancelled (generator closed) or an error: end the work too
    return job.outcome()


_END = object()


def cancellable(fn):
    """A heavy UI handler (a function or a generator) whose work stops when its request is cancelled.

    Gradio can close a generator that is waiting at a ``yield``, not a function busy in its thread: a
    cancelled 20-minute analysis ran on for 44 s. So the handler runs in a worker thread (:class:`_Job`),
    while this generator relays what it yields and otherwise yields ``gr.skip()`` twice a second; closing it
    (Stop, a closed tab, a cancelled call) sets the job's cancel, which the engine's loops check within a batch.
    Put it under ``@user_errors``.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        outbox: queue.SimpleQueue = queue.SimpleQueue()

        def run(cancel):
            out = fn(*args, **kwargs)
            for item in out if inspect.isgenerator(out) else [out]:
                outbox.put(item)
                check_cancel()

        job = _Job(fn.__name__, run, on_end=lambda: outbox.put(_END))
        try:
            while (item := _next(outbox)) is not _END:
                yield item
        finally:
            job.close()
        job.outcome()

    return wrapper


def _next(outbox: queue.SimpleQueue):
    """The next thing a job yielded, or ``gr.skip()`` after half a second (so that a cancel can close us)."""
    try:
        return outbox.get(timeout=0.5)
    except queue.Empty:
        return gr.skip()


def heavy() -> dict:
    """Event options for CPU/GPU-bound interactive handlers: one limit shared by all of them.

    Gradio's concurrency limit applies per event listener unless listeners share a ``concurrency_id``; without
    this, a 2-core machine ran up to ten heavy jobs at once. Three at a time on CPU (one more than a client may
    hold), one per GPU. Short
    interactive steps (search answers, ABX, stop) do not use it, so they never wait behind long jobs; long
    jobs (:func:`long_job`) have their own group, so analyses never wait behind captures.
    """
    return concurrency("heavy", registry.device().type == "cuda")


def api_job(work, desc: str = "Working"):
    """A JSON endpoint's body as a cancellable job: yields ``{"progress": fraction, "message": ...}`` while
    ``work(cancel, report)`` runs, then its result. A client's cancel or disconnect closes the generator,
    which stops the work at its next check (within a batch). Use as ``yield from api_job(...)``."""
    note_request(api=True)
    done = {"fraction": 0.0}
    result = yield from in_background(work, lambda f, desc=None: done.update(fraction=f), desc,
                                      busy=lambda msg: {"progress": round(float(done["fraction"]), 3), "message": msg})
    yield result
