"""Files handed back to users, per session and bounded, and the ledger of what each session holds.

Files handed back live in one folder per process, a folder per browser session below it. They are removed
when the session ends (:func:`release_session`), after ``OUTPUT_TTL_S``, and oldest first once the folder
passes ``OUTPUT_CAP_BYTES`` (Gradio has copied them into its own cache by then, which
``gr.Blocks(delete_cache=...)`` cleans). The ledger (:func:`note_request`) records each session's uploads
and last request, so that a session's files and state go with it (:func:`release`), and sessions no browser
says goodbye for go when idle (:func:`release_idle_sessions`).
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr

from core.training import Cancelled
from server.gradio_internals import cache_folder, cache_root, current_session, drop_session_state
from server.guard import is_upload
from server.memory import give_memory_back
from server.sessions import SESSION_STORES

OUTPUT_TTL_S = 3600
OUTPUT_CAP_BYTES = 1 << 30
OUTPUT_ROOT = Path(tempfile.gettempdir()) / f"music_studio_{os.getpid()}"


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
    session = current_session() or "no-session"
    if session in _released:  # a job that outlived its session (closed tab, cancelled call): nobody to hand it to
        raise Cancelled()
    folder = OUTPUT_ROOT / session
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="out_", dir=folder)) / name


# --- the ledger: what each session holds, and letting it go ---------------------------------------------

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
    session = current_session()
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


#: Per version of a handed-back file (path, mtime, size), the name of Gradio's cache folder for it.
_hashes: dict[tuple, str] = {}


def _cache_copy(path: Path) -> Path | None:
    """Where Gradio's cache keeps its copy of a file handed back (hashed once per version of the file)."""
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in _hashes:
            _hashes[key] = cache_folder(path).name
        return cache_root() / _hashes[key]
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
    root = cache_root()
    for folder in mine:
        if folder.parent == root:  # never anything outside Gradio's own cache
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
    drop_session_state(request)
    give_memory_back()


def release_all() -> None:
    """At shutdown: every handed-back file goes, and the per-process Gradio cache when this process made it."""
    shutil.rmtree(OUTPUT_ROOT, ignore_errors=True)
    cache = os.environ.get("GRADIO_TEMP_DIR", "")
    if cache and Path(cache).name.startswith(f"{OUTPUT_ROOT.name}_gradio"):
        shutil.rmtree(cache, ignore_errors=True)
