"""Search a sample library by example, with Yes/No feedback (the loop-search paper's loop, on the index).

    s = LibrarySearch("~/Samples", "my_kick.wav", space="musicnn", filters=Filters(max_s=2))
    s.results(10)                       # [Result(path, score, duration, tags, bpm), ...] best first
    s.answer(s.results(1)[0].path, yes=True)   # re-ranked: query + mean(Yes) − w·mean(No)
    s.undo(); s.ended                   # patience: N consecutive No answers end the session
    s.to_csv("hits.csv"); s.export_zip("chosen.zip")

The library's vectors are read once per search into a float32 matrix (centred on the library's mean, then
L2-normalised: cosine on the raw vectors sees every sound as similar, see docs/library.md), so a query and
each re-rank are one matrix-vector product: well under 100 ms at 10,000 files (bench/bench_library.py).
"""
from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.capability import Capability, register
from core.key import relative_key
from core.library.index import DEFAULT_SPACE, SPACES, LibraryError, analyse, embed_audio, resolve, rows, vector
from core.training import ASSETS

#: consecutive No answers that end a session (the loop-search paper's Algorithm 1 uses 5)
PATIENCE = 5
#: weight of the No answers' mean in the re-ranked query (Rocchio): chosen by the simulated user's recall
#: within patience (``python -m core.library.evaluate``, docs/figures/library_eval.json "rocchio")
NEGATIVE_WEIGHT = 2.0
#: centre the library's vectors on their mean before the cosine (measured: docs/figures/library_eval.json)
CENTER = True


@dataclass
class Filters:
    """``tag``: a substring of one of the file's tags or of its path; durations in seconds; ``bpm`` ± ``bpm_tol``
    (relative) or a ``min_bpm``–``max_bpm`` range; ``key`` ("A minor"): that key or its relative major/minor,
    the keys a DJ mixes into each other. Files without a tempo (or key) are left out by a tempo (or key) filter."""

    tag: str | None = None
    min_s: float | None = None
    max_s: float | None = None
    bpm: float | None = None
    bpm_tol: float = 0.04
    min_bpm: float | None = None
    max_bpm: float | None = None
    key: str | None = None

    def mask(self, cat: "Catalog") -> np.ndarray:
        m = np.ones(len(cat), bool)
        if self.tag:
            t = self.tag.lower()
            m &= np.array([t in p.lower() or any(t in g for g in tags) for p, tags in zip(cat.paths, cat.tags)], bool)
        if self.min_s is not None:
            m &= cat.durations >= self.min_s
        if self.max_s is not None:
            m &= cat.durations <= self.max_s
        lo, hi = self.min_bpm, self.max_bpm
        if self.bpm is not None:
            lo, hi = self.bpm * (1 - self.bpm_tol), self.bpm * (1 + self.bpm_tol)
        if lo is not None or hi is not None:
            b = np.nan_to_num(cat.bpms, nan=-1.0)
            m &= (b >= (lo if lo is not None else 0)) & (b <= (hi if hi is not None else np.inf)) & (b > 0)
        if self.key:
            wanted = {self.key, relative_key(self.key)}
            m &= np.array([k in wanted for k in cat.keys], bool)
        return m


@dataclass
class Result:
    path: str  # relative to the library root
    score: float  # cosine similarity to the (re-ranked) query
    duration: float
    tags: list[str]
    bpm: float | None
    answer: str = ""  # "yes", "no" or ""
    key: str | None = None  # "A minor"; None for a one-shot or a file without pitch content

    def to_dict(self) -> dict:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        d["duration"] = round(self.duration, 3)
        return d


class Catalog:
    """The library in memory: paths, per-space float32 matrices (centred, L2-normalised), durations, tags, tempi."""

    def __init__(self, paths, matrices: dict[str, np.ndarray], durations, tags, bpms, root: Path | None = None,
                 center: bool = CENTER, keys=None):
        self.root = root
        self.paths = list(paths)
        self.keys = list(keys) if keys is not None else [None] * len(self.paths)
        self.durations = np.asarray(durations, np.float32)
        self.tags = [list(t) for t in tags]
        self.bpms = np.asarray([np.nan if b is None else b for b in bpms], np.float32)
        self.index = {p: i for i, p in enumerate(self.paths)}
        self.mean, self.X = {}, {}
        for s, M in matrices.items():
            M = np.asarray(M, np.float32)
            mu = M.mean(0) if center and len(M) else np.zeros(M.shape[1], np.float32)
            self.mean[s] = mu.astype(np.float32)
            self.X[s] = _normalise_rows(M - mu)

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def load(cls, library, db=None, center: bool = CENTER) -> "Catalog":
        root, db = resolve(library, db)
        if not db.exists():
            raise LibraryError(f"{root} has no index yet: run `python -m core.library index {root}` first.")
        rs = [r for r in rows(db) if all(r[f"emb_{s}"] is not None for s in SPACES)]
        mats = {s: np.stack([vector(r[f"emb_{s}"]) for r in rs]) if rs else np.zeros((0, 1), np.float32)
                for s in SPACES}
        return cls([r["path"] for r in rs], mats, [r["duration"] or 0.0 for r in rs],
                   [json.loads(r["tags"] or "[]") for r in rs], [r["bpm"] for r in rs], root, center,
                   [r.get("key") for r in rs])

    def project(self, v: np.ndarray, space: str) -> np.ndarray:
        """A raw stored-form vector into this catalog's (centred, normalised) space."""
        return _normalise_rows((np.asarray(v, np.float32) - self.mean[space])[None])[0]

    def full_path(self, rel: str) -> Path:
        return (self.root / rel) if self.root is not None else Path(rel)


def _normalise_rows(M: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(M, axis=1, keepdims=True)
    return (M / np.where(n > 0, n, 1)).astype(np.float32)


def rocchio(q: np.ndarray, positives: np.ndarray, negatives: np.ndarray, w: float = NEGATIVE_WEIGHT) -> np.ndarray:
    """query + mean(Yes) − w·mean(No), re-normalised (all rows already unit length)."""
    v = q.astype(np.float32).copy()
    if len(positives):
        v += positives.mean(0)
    if len(negatives):
        v -= w * negatives.mean(0)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def top_k(scores: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best allowed scores, best first (argpartition: no full sort at a million rows)."""
    s = np.where(allowed, scores, -np.inf)
    k = min(k, int(allowed.sum()))
    if k <= 0:
        return np.zeros(0, int)
    idx = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    return idx[np.argsort(-s[idx], kind="stable")][:k]


class SearchEnded(RuntimeError):
    """An answer came after patience ran out."""


class LibrarySearch:
    """One search by example over an indexed library, with Yes/No feedback and undo.

    ``db``: a library folder, its index file, or a :class:`Catalog` already in memory. ``query``: a file (inside
    the library: its stored vectors; outside: analysed now), a ``(y, sr)`` pair of mono audio, or a 1-D embedding
    vector of the space (as the index stores it).
    """

    def __init__(self, db, query, space: str = DEFAULT_SPACE, filters: Filters | None = None, patience: int = PATIENCE,
                 negative_weight: float = NEGATIVE_WEIGHT, root=None):
        if space not in SPACES:
            raise ValueError(f"Unknown space {space!r}: use one of {', '.join(SPACES)}.")
        self.catalog = db if isinstance(db, Catalog) else Catalog.load(root or db, None if root is None else db)
        self.space, self.patience, self.w = space, int(patience), float(negative_weight)
        self.filters = filters or Filters()
        cat = self.catalog
        self.allowed = self.filters.mask(cat)
        self.query_index = None
        if isinstance(query, np.ndarray) and query.ndim == 1:  # an embedding, as the index stores it
            self.q = cat.project(query, space)
        elif isinstance(query, tuple) and len(query) == 2 and np.ndim(query[1]) >= 1:
            sr, y = (query[0], query[1]) if np.ndim(query[0]) == 0 else (query[1], query[0])
            y = np.asarray(y, np.float32)
            raw = embed_audio(y if y.ndim == 1 else y.mean(0), int(sr), (space,))[space]
            self.q = cat.project(raw, space)
        else:
            qp = Path(query).expanduser().resolve()
            rel = None
            if cat.root is not None:
                try:
                    rel = qp.relative_to(cat.root).as_posix()
                except ValueError:
                    rel = None
            if rel is not None and rel in cat.index:
                self.query_index = cat.index[rel]
                self.q = cat.X[space][self.query_index]
            else:
                row = analyse(qp, qp.name, (space,))
                if row["status"] != "ok":
                    raise LibraryError(f"The query {qp.name!r} could not be read: {row['error']}")
                self.q = cat.project(vector(row[f"emb_{space}"]), space)
        self.history: list[tuple[int, bool]] = []  # (row, yes) in answer order
        self._rerank()

    # -- state
    @property
    def positives(self) -> list[int]:
        return [i for i, y in self.history if y]

    @property
    def negatives(self) -> list[int]:
        return [i for i, y in self.history if not y]

    @property
    def misses_in_a_row(self) -> int:
        n = 0
        for _, y in reversed(self.history):
            if y:
                break
            n += 1
        return n

    @property
    def ended(self) -> bool:
        return self.misses_in_a_row >= self.patience

    def _rerank(self) -> None:
        X = self.catalog.X[self.space]
        self.vector = rocchio(self.q, X[self.positives], X[self.negatives], self.w)
        self.scores = X @ self.vector if len(X) else np.zeros(0, np.float32)

    def _open(self) -> np.ndarray:
        m = self.allowed.copy()
        if self.query_index is not None:
            m[self.query_index] = False
        for i, _ in self.history:
            m[i] = False
        return m

    # -- what the user sees and does
    def results(self, k: int = 10) -> list[Result]:
        """The ``k`` best files not yet answered, best first."""
        return [self._result(i) for i in top_k(self.scores, self._open(), k)]

    def next(self) -> Result | None:
        r = self.results(1)
        return r[0] if r else None

    def _result(self, i: int, answer: str = "") -> Result:
        c = self.catalog
        b = float(c.bpms[i])
        return Result(c.paths[i], float(self.scores[i]), float(c.durations[i]), c.tags[i],
                      None if np.isnan(b) else round(b, 2), answer, c.keys[i])

    def answer(self, path: str, yes: bool) -> list[Result]:
        """Record a Yes/No for ``path`` (relative, or absolute inside the library) and re-rank; the new top 10."""
        if self.ended:
            raise SearchEnded(f"The search has ended: {self.patience} No answers in a row. Start a new one.")
        i = self._row(path)
        if any(j == i for j, _ in self.history):
            raise ValueError(f"{path!r} was already answered.")
        self.history.append((i, bool(yes)))
        self._rerank()
        return self.results(10)

    def undo(self) -> list[Result]:
        """Take back the last answer (ending the session can be undone too)."""
        if self.history:
            self.history.pop()
            self._rerank()
        return self.results(10)

    def _row(self, path) -> int:
        c = self.catalog
        p = str(path)
        if p in c.index:
            return c.index[p]
        if c.root is not None:
            try:
                rel = Path(p).expanduser().resolve().relative_to(c.root).as_posix()
                if rel in c.index:
                    return c.index[rel]
            except ValueError:
                pass
        raise KeyError(f"{p!r} is not in the library's index.")

    # -- export
    def chosen(self) -> list[Result]:
        return [self._result(i, "yes") for i in self.positives]

    def answered(self) -> list[Result]:
        return [self._result(i, "yes" if y else "no") for i, y in self.history]

    def table(self, k: int = 50) -> list[Result]:
        """What an export holds: the answered files first (in answer order), then the best ``k`` open ones."""
        return self.answered() + self.results(k)

    def to_dict(self, k: int = 50) -> dict:
        return {"space": self.space, "patience": self.patience, "ended": self.ended,
                "filters": asdict(self.filters), "results": [r.to_dict() for r in self.table(k)]}

    def to_json(self, path, k: int = 50) -> str:
        Path(path).write_text(json.dumps(self.to_dict(k), indent=1))
        return str(path)

    def to_csv(self, path, k: int = 50) -> str:
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "score", "duration_s", "tags", "bpm", "answer"])
            for r in self.table(k):
                w.writerow([r.path, f"{r.score:.4f}", f"{r.duration:.3f}", "; ".join(r.tags),
                            "" if r.bpm is None else r.bpm, r.answer])
        return str(path)

    def export_zip(self, path) -> str:
        """The chosen (Yes) files in a zip, under their library-relative paths."""
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for r in self.chosen():
                z.write(self.catalog.full_path(r.path), r.path)
        return str(path)


def search(library, query, k: int = 10, space: str = DEFAULT_SPACE, filters: Filters | None = None) -> list[Result]:
    """One-shot search without feedback: the ``k`` best files for ``query``."""
    return LibrarySearch(library, query, space, filters).results(k)


CAPABILITY = register(Capability(
    "library", run=LibrarySearch, result=LibrarySearch,
    examples=(ASSETS / "examples" / "library" / "kicks" / "bd_808.flac",),
    evaluate="python -m core.library.evaluate --write-docs; python bench/bench_library.py"))
