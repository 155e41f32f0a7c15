"""A producer's sample library: one SQLite file beside the folder, updated incrementally.

    report = index("~/Samples")                        # IndexReport: added, updated, removed, errors, seconds
    report = index("~/Samples", engine="dask")         # the per-file analysis on a Dask cluster, writes here
    row = analyse("~/Samples/kick.wav")                # one file → the row dict the index stores

Per file: its path relative to the library root (a moved library keeps working), size and mtime (what
"changed" means), duration, rate, channels, integrated loudness, peak, tempo (files of 2 s or more), the
musicnn taggers' top tags, and two embeddings stored as float16 BLOBs:

- ``musicnn``: the mean over 3 s patches of both taggers' penultimate layers (2 × 200), first 30 s, 16 kHz mono;
- ``mel``: mean and std over time of a 64-band log-mel (22.05 kHz, dB relative to the file's maximum, so a gain
  change leaves it alone), L2-normalised (128).

Robustness: rows are committed every ``COMMIT_EVERY`` files (a crash loses the files in flight; a rerun resumes),
unreadable files get an ``error`` row with the reason, symlinked folders are not entered, a file that changes
while it is read is left for the next run, and a lock file refuses a second indexer of the same library.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.audio import AUDIO_EXTENSIONS, audio_stats, load_audio, resample
from core.threads import side_by_side, single_thread
from core.training import check_cancel

DB_NAME = ".studio-library.sqlite"
LOCK_NAME = ".studio-library.lock"
SCHEMA_VERSION = 2  # 2: key, beats, downbeats and chords of every file long enough to have them
#: rows written per transaction: a crash loses at most this many analysed files
COMMIT_EVERY = 8
#: the musicnn embedding and the tags read the first 30 s (a sample library is mostly shorter)
EMBED_SECONDS = 30.0
#: the level figures read up to 10 minutes; longer files are cut (and still indexed)
ANALYSIS_SECONDS = 600.0
#: tempo is estimated for files at least this long (loops); one-shots get None
TEMPO_MIN_SECONDS = 2.0
MEL_SR = 22_050
MEL_BANDS = 64
TOP_TAGS = 5
SPACES = ("aisfx", "musicnn", "mel")
DIMS = {"aisfx": 512, "musicnn": 400, "mel": 2 * MEL_BANDS}
#: the space a search uses unless told: the best on the real CC0 library (python -m core.library.evaluate)
DEFAULT_SPACE = "aisfx"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,          -- relative to the library root, '/' separated
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    status TEXT NOT NULL,           -- 'ok' or 'error'
    error TEXT,
    duration REAL, sample_rate INTEGER, channels INTEGER,
    lufs REAL, peak_dbfs REAL, bpm REAL,
    tags TEXT,                      -- JSON list, strongest first
    emb_musicnn BLOB, emb_mel BLOB, -- float16
    emb_aisfx BLOB,                 -- float16
    indexed_at REAL,
    key TEXT, key_confidence REAL,  -- e.g. "A minor" (files of TEMPO_MIN_SECONDS or more)
    beats TEXT, downbeats TEXT,     -- JSON lists of seconds (BeatNet)
    chords TEXT                     -- JSON list of [start s, end s, label] (crema)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
COLUMNS = ("path", "size", "mtime_ns", "status", "error", "duration", "sample_rate", "channels", "lufs",
           "peak_dbfs", "bpm", "tags", "emb_musicnn", "emb_mel", "emb_aisfx", "indexed_at", "key", "key_confidence",
           "beats", "downbeats", "chords")
#: columns added after the first schema, with their SQL types: an older index gains them and reads its files again
ADDED_COLUMNS = {"key": "TEXT", "key_confidence": "REAL", "beats": "TEXT", "downbeats": "TEXT", "chords": "TEXT",
                 "emb_aisfx": "BLOB"}


class LibraryError(RuntimeError):
    """The library cannot be indexed or read (not a folder, locked by another indexer, no index yet)."""


class LibraryBusy(LibraryError):
    """Another process is indexing this library right now."""


@dataclass
class IndexReport:
    root: str
    db: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    deferred: int = 0  # changed while being read: left for the next run
    errors: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    seconds: float = 0.0
    engine: str = "local"

    @property
    def analysed(self) -> int:
        return self.added + self.updated

    def to_dict(self) -> dict:
        d = asdict(self)
        d["errors"] = [{"path": p, "reason": r} for p, r in self.errors]
        d["seconds"] = round(self.seconds, 3)
        return d

    def summary(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged, "
                f"{len(self.errors)} unreadable, {self.deferred} changed while read; {self.seconds:.1f} s")


# ----------------------------------------------------------------------------- paths and the database

def default_db(root) -> Path:
    return Path(root) / DB_NAME


def resolve(library, db=None) -> tuple[Path, Path]:
    """(root, db) from a library folder or an index file (an index file's folder is its root)."""
    p = Path(library).expanduser()
    if p.is_dir():
        return p.resolve(), Path(db).expanduser().resolve() if db else default_db(p.resolve())
    if p.is_file():
        return p.resolve().parent, p.resolve()
    raise LibraryError(f"{str(library)!r} is neither a library folder nor an index file.")


def connect(db) -> sqlite3.Connection:
    con = sqlite3.connect(str(db), timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(_SCHEMA)
    have = {r[1] for r in con.execute("PRAGMA table_info(files)")}
    missing = [c for c in ADDED_COLUMNS if c not in have]
    for c in missing:  # an index written by an older version: nothing is lost, its files are read again
        con.execute(f"ALTER TABLE files ADD COLUMN {c} {ADDED_COLUMNS[c]}")
    if missing:
        con.execute("UPDATE files SET size = -1")  # plan() then sees every file as changed
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    con.commit()
    return con


@contextlib.contextmanager
def library_lock(root: Path) -> Iterator[None]:
    """Exclusive ``flock`` on ROOT/.studio-library.lock; a second indexer gets :class:`LibraryBusy`."""
    f = open(Path(root) / LOCK_NAME, "a+")
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LibraryBusy(f"Another process is indexing {root} right now; wait for it to finish "
                              "(or remove a stale lock holder).") from None
        yield
    finally:
        f.close()  # closing the descriptor releases the lock


def walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, stat) of every audio file under ``root``; symlinked folders are not entered, our own
    files and hidden entries are skipped."""
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and not os.path.islink(os.path.join(d, x)))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(AUDIO_EXTENSIONS):
                continue
            full = os.path.join(d, name)
            try:
                st = os.stat(full)  # a symlinked file is read through (it cannot loop)
            except OSError:
                continue  # a dangling link
            if not os.path.isfile(full):
                continue
            yield os.path.relpath(full, root).replace(os.sep, "/"), st


# ----------------------------------------------------------------------------- per-file analysis (pure)

def l2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 and math.isfinite(n) else np.zeros_like(v)


def mel_embedding(y: np.ndarray, sr: int) -> np.ndarray:
    """(128,) L2-normalised mean and std over time of a 64-band log-mel at 22.05 kHz (dB re the file's max:
    gain-invariant). Mono float audio at any rate."""
    from core.features import N_FFT, log_mel

    y = np.asarray(y, dtype=np.float32)
    if sr != MEL_SR:
        y = resample(y, sr, MEL_SR)
    if not np.any(y):
        return np.zeros(DIMS["mel"], np.float32)
    y = np.pad(y, (0, max(0, N_FFT - len(y))))  # a click shorter than one frame: zeros after it, no warning
    M = log_mel(y, MEL_SR, n_mels=MEL_BANDS)
    return l2(np.concatenate([M.mean(1), M.std(1)]))


def musicnn_embedding(y: np.ndarray, sr: int) -> tuple[np.ndarray, list[str]]:
    """(400,) mean over patches of both taggers' penultimate layers (first 30 s), and the top tags."""
    from core.backbones import musicnn
    from core.backbones.embed import embed
    from core.backbones.tagging import from_embeddings

    y16 = resample(np.asarray(y, np.float32), sr, musicnn.SR) if sr != musicnn.SR else np.asarray(y, np.float32)
    y16 = y16[: int(EMBED_SECONDS * musicnn.SR)]
    e = embed(y16, musicnn.SR)
    v = np.concatenate([e["mtt"].penultimate.mean(0), e["msd"].penultimate.mean(0)]).astype(np.float32)
    tags = []
    for _, t, _ in from_embeddings(e, len(y16) / musicnn.SR).ranked(TOP_TAGS * 2):
        if t.lower() not in tags:
            tags.append(t.lower())
    return v, tags[:TOP_TAGS]


def aisfx_embedding(y: np.ndarray, sr: int) -> np.ndarray:
    """(512,) mean over 2.3 s blocks of aiSFX, a network trained on professional sound-effects libraries
    (``core.backbones.aisfx``, first 30 s)."""
    from core.backbones import aisfx

    return aisfx.embed(aisfx.load(), np.asarray(y, np.float32), sr)


def embed_audio(y: np.ndarray, sr: int, spaces=SPACES) -> dict[str, np.ndarray]:
    """The embeddings of mono audio, as the index stores them (float32 here): a query that is not a file."""
    out = {}
    if "aisfx" in spaces:
        out["aisfx"] = aisfx_embedding(y, sr)
    if "musicnn" in spaces:
        out["musicnn"] = musicnn_embedding(y, sr)[0]
    if "mel" in spaces:
        out["mel"] = mel_embedding(y, sr)
    return out


def _rhythm_and_harmony(y: np.ndarray, sr: int) -> dict:
    """Tempo, key, beats, downbeats and chords of a loop or longer file, as the analysis tab finds them (BeatNet,
    crema, chroma + chords); nothing for a file under ``TEMPO_MIN_SECONDS`` (a one-shot has no tempo or key)."""
    if len(y) < TEMPO_MIN_SECONDS * sr:
        return {}
    try:
        from core.analysis import analyse as analyse_audio

        a = analyse_audio(y, sr)
    except Exception:  # tempo and key are hints: a one-shot or an odd file must not stop the row
        return {}
    out = {"bpm": float(a.tempo.bpm) if a.tempo is not None and math.isfinite(a.tempo.bpm) else None}
    if a.tempo is not None:
        out["beats"] = json.dumps([round(float(t), 3) for t in a.tempo.beats])
        out["downbeats"] = json.dumps([round(float(t), 3) for t in a.downbeats])
    if a.key is not None:
        out.update(key=a.key.name, key_confidence=a.key.confidence)
    if a.chords is not None:
        out["chords"] = json.dumps([[round(c.start, 3), round(c.end, 3), c.label] for c in a.chords.segments])
    return out


def analyse(path, rel: str | None = None, spaces=SPACES) -> dict:
    """One file → the row the index stores (embeddings as float16 bytes). Pure: reads the file, writes nothing,
    never raises for a bad file (status 'error' and the reason instead). ``size``/``mtime_ns`` are those seen
    *before* reading, so the caller can tell a file that changed meanwhile."""
    import soundfile as sf

    path = Path(path)
    st = path.stat()
    row = {"path": rel if rel is not None else path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
           "status": "ok", "error": None, "duration": None, "sample_rate": None, "channels": None, "lufs": None,
           "peak_dbfs": None, "bpm": None, "tags": "[]", "emb_musicnn": None, "emb_mel": None, "emb_aisfx": None,
           "indexed_at": time.time(), **dict.fromkeys(ADDED_COLUMNS)}
    try:
        try:
            info = sf.info(str(path))
            duration, channels = info.frames / info.samplerate, info.channels
        except Exception:
            duration, channels = None, None
        y, sr = load_audio(path, sr=None, mono=False, max_seconds=ANALYSIS_SECONDS, trim=True)
        y = y if y.ndim == 2 else y[None]
        stats = audio_stats(y, sr)
        mono = y.mean(0)
        row.update(duration=float(duration if duration is not None else y.shape[-1] / sr), sample_rate=int(sr),
                   channels=int(channels or y.shape[0]), lufs=stats.loudness_lufs,
                   peak_dbfs=stats.peak_dbfs if math.isfinite(stats.peak_dbfs) else None)
        head = mono[: int(EMBED_SECONDS * sr)]
        if "mel" in spaces:
            row["emb_mel"] = mel_embedding(head, sr).astype(np.float16).tobytes()
        # aiSFX (one core) beside the two musicnn taggers (side by side themselves): the three networks share the
        # two cores instead of aiSFX leaving one idle
        aisfx_v, (musicnn_v, tags) = side_by_side(
            lambda: aisfx_embedding(head, sr) if "aisfx" in spaces else None,
            lambda: musicnn_embedding(head, sr) if "musicnn" in spaces else (None, None))
        if aisfx_v is not None:
            row["emb_aisfx"] = aisfx_v.astype(np.float16).tobytes()
        if musicnn_v is not None:
            row["emb_musicnn"] = musicnn_v.astype(np.float16).tobytes()
            row["tags"] = json.dumps(tags)
        y22 = resample(head, sr, MEL_SR) if sr != MEL_SR else head
        row.update(_rhythm_and_harmony(y22, MEL_SR))
    except Exception as err:  # unreadable, corrupt, too many channels...: listed with its reason
        row.update(status="error", error=f"{type(err).__name__}: {err}"[:500])
    return row


def vector(blob) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float16).astype(np.float32)


# ----------------------------------------------------------------------------- the incremental run

def plan(root: Path, con: sqlite3.Connection) -> tuple[list[tuple[str, os.stat_result, bool]], list[str], int]:
    """(files to analyse as (rel, stat, is_new), rows to drop, unchanged count)."""
    known = {p: (s, m) for p, s, m in con.execute("SELECT path, size, mtime_ns FROM files")}
    todo, seen, same = [], set(), 0
    for rel, st in walk(root):
        seen.add(rel)
        old = known.get(rel)
        if old is None:
            todo.append((rel, st, True))
        elif old != (st.st_size, st.st_mtime_ns):
            todo.append((rel, st, False))
        else:
            same += 1
    return todo, sorted(set(known) - seen), same


def _write(con: sqlite3.Connection, row: dict) -> None:
    con.execute(f"INSERT OR REPLACE INTO files ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [row[c] for c in COLUMNS])


def _still_same(full: Path, row: dict) -> bool:
    try:
        st = full.stat()
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (row["size"], row["mtime_ns"])


def _analyse_job(root: str, rel: str) -> dict:
    """What a Dask worker runs: the analysis of one file (top-level, so it pickles)."""
    return analyse(Path(root) / rel, rel)


def _results(root: Path, todo, engine: str, client) -> Iterator[dict]:
    if engine not in ("local", "dask"):
        raise ValueError(f"Unknown engine {engine!r}: use 'local' or 'dask'.")
    # torch on one thread while indexing (this process's workers too): each network then has a core of its own
    # beside the others; measured on 130 files, 8.5 files/s against 6.8 with torch's two threads
    with single_thread():
        if engine == "local":
            for rel, _, _ in todo:
                yield analyse(root / rel, rel)
        else:
            yield from _dask_results(root, todo, client)


def _dask_results(root: Path, todo, client) -> Iterator[dict]:
    from distributed import Client, LocalCluster, as_completed

    own = None
    if client is None:
        own = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None))
        client = own
    try:
        futures = client.map(_analyse_job, [str(root)] * len(todo), [rel for rel, _, _ in todo], pure=False)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.cancel(futures)
    finally:
        if own is not None:
            own.close()
            own.cluster.close()


def index(root, db=None, progress: Callable[[float, str], None] | None = None, cancel=None,
          engine: str = "local", client=None, commit_every: int = COMMIT_EVERY) -> IndexReport:
    """Bring the index of ``root`` up to date: new and changed files analysed, removed files dropped.

    ``engine="dask"`` maps :func:`analyse` over the files with a ``distributed.Client`` (``client``, or a
    two-worker LocalCluster made here); the SQLite writes stay in this process, so the index is the same.
    ``progress(fraction, message)``; ``cancel`` as :func:`core.training.check_cancel` takes it (rows already
    committed stay). Raises :class:`LibraryBusy` while another process indexes the same folder.
    """
    t0 = time.perf_counter()
    root = Path(root).expanduser()
    if not root.is_dir():
        raise LibraryError(f"{str(root)!r} is not a folder.")
    root = root.resolve()
    db = Path(db).expanduser().resolve() if db else default_db(root)
    report = IndexReport(str(root), str(db), engine=engine)
    with library_lock(root):
        con = connect(db)
        try:
            todo, gone, report.unchanged = plan(root, con)
            if gone:
                con.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
                con.commit()
            report.removed = len(gone)
            new = {rel: is_new for rel, _, is_new in todo}
            check_cancel(cancel)
            pending = 0
            for i, row in enumerate(_results(root, todo, engine, client), 1):
                rel = row["path"]
                if not _still_same(root / rel, row):
                    report.deferred += 1  # written to while we read it: the next run takes it
                else:
                    _write(con, row)
                    pending += 1
                    report.added += new[rel]
                    report.updated += not new[rel]
                    if row["status"] == "error":
                        report.errors.append((rel, row["error"]))
                if pending >= commit_every:
                    con.commit()
                    pending = 0
                if progress is not None:
                    progress(i / max(1, len(todo)), f"{i}/{len(todo)} {rel}")
                check_cancel(cancel)
            con.commit()
            con.execute("INSERT OR REPLACE INTO meta VALUES ('updated_at', ?)", (str(time.time()),))
            con.commit()
        finally:
            con.close()
    report.seconds = time.perf_counter() - t0
    return report


def rows(db, where: str = "status = 'ok'") -> list[dict]:
    """Every row of an index (embeddings still as bytes)."""
    con = sqlite3.connect(str(db))
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(f"SELECT * FROM files WHERE {where} ORDER BY path")]
    finally:
        con.close()
