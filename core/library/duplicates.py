"""Near-duplicates in a sample library: the same sound re-encoded, trimmed by under 10 % or gain-changed.

    groups = find_duplicates("~/Samples")       # [DuplicateGroup(paths=[...], similarity=0.999), ...]

The fingerprint is the index's ``mel`` embedding: mean and std over time of a 64-band log-mel in dB relative to
the file's own maximum (a gain change moves nothing), L2-normalised. Two files are the same sound when their
fingerprints' cosine reaches ``THRESHOLD`` and their durations differ by at most ``MAX_TRIM``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.library.index import resolve, rows, vector

#: cosine of the raw (uncentred) mel fingerprints above which two files are the same sound: the F1-best
#: threshold on made variants of real one-shots (MP3/OGG re-encode, ±6 dB, 5 % trim) against different sounds;
#: chosen on half the sounds, precision/recall reported on the other half: ``python -m core.library.evaluate``,
#: docs/figures/library_eval.json "duplicates".
THRESHOLD = 0.99909
#: the most two copies' durations may differ (relative to the longer one) and still be one sound
MAX_TRIM = 0.10


@dataclass
class DuplicateGroup:
    paths: list[str]  # relative to the library root, sorted
    similarity: float  # the lowest cosine of the pairs that joined the group

    def to_dict(self) -> dict:
        return {"paths": list(self.paths), "similarity": round(self.similarity, 5)}


def pairs(X: np.ndarray, durations: np.ndarray, threshold: float = THRESHOLD, max_trim: float = MAX_TRIM,
          block: int = 2048) -> list[tuple[int, int, float]]:
    """(i, j, cosine) with i < j for every pair over the threshold with compatible durations; ``X`` rows unit
    length. Blocked, so a 100,000-file library needs no 100,000² matrix."""
    X = np.asarray(X, np.float32)
    d = np.asarray(durations, np.float32)
    out = []
    for a in range(0, len(X), block):
        S = X[a:a + block] @ X.T
        ii, jj = np.nonzero(S >= threshold)
        for i, j in zip(ii + a, jj):
            if i < j:
                longer = max(d[i], d[j])
                if longer <= 0 or abs(d[i] - d[j]) / longer <= max_trim:
                    out.append((int(i), int(j), float(S[i - a, j])))
    return out


def groups(n: int, edges, paths) -> list[DuplicateGroup]:
    """Connected components (union-find) of the duplicate pairs, largest first."""
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    low: dict[int, float] = {}
    for i, j, s in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[rj] = ri
            low[ri] = min(low.get(ri, 1.0), low.pop(rj, 1.0), s)
        else:
            low[ri] = min(low.get(ri, 1.0), s)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    out = [DuplicateGroup(sorted(paths[i] for i in m), low.get(r, 1.0)) for r, m in members.items() if len(m) > 1]
    return sorted(out, key=lambda g: (-len(g.paths), g.paths))


def find_duplicates(library, db=None, threshold: float = THRESHOLD, max_trim: float = MAX_TRIM) -> list[DuplicateGroup]:
    """Groups of files in an indexed library that are the same sound."""
    _, db = resolve(library, db)
    rs = [r for r in rows(db) if r["emb_mel"] is not None]
    if not rs:
        return []
    X = np.stack([vector(r["emb_mel"]) for r in rs])
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    d = np.array([r["duration"] or 0.0 for r in rs], np.float32)
    return groups(len(rs), pairs(X, d, threshold, max_trim), [r["path"] for r in rs])
