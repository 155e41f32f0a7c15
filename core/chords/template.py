"""A simple baseline chord recogniser: chroma matched against 24 major/minor triad templates plus no-chord, then the
same self-loop Viterbi crema uses (librosa's documented template example, with an energy gate for silence).

It exists to say how much crema's network adds; it knows only ``X:maj``, ``X:min`` and ``N``.
"""
from __future__ import annotations

import numpy as np

from core.chords.crema import Chords, Segment, viterbi

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: self-loop probability of the baseline's Viterbi; sharpness of exp(sharpness × template match)
P_SELF = 0.9
SHARPNESS = 8.0
#: frames whose chroma peak (chroma_stft normalises each frame to max 1) is below this are silence → N
SILENT_PEAK = 0.5
#: the N template's constant match: a frame must match a triad better than this to get a chord
N_MATCH = 0.55


def labels() -> list[str]:
    return [f"{p}:maj" for p in PITCHES] + [f"{p}:min" for p in PITCHES] + ["N"]


def templates() -> np.ndarray:
    """(24, 12) unit-norm triad templates, major then minor, roots C..B."""
    out = np.zeros((24, 12))
    for root in range(12):
        out[root, [root, (root + 4) % 12, (root + 7) % 12]] = 1
        out[12 + root, [root, (root + 3) % 12, (root + 7) % 12]] = 1
    return out / np.sqrt(3)


def probabilities(chroma: np.ndarray) -> np.ndarray:
    """Chroma (12, T) → (T, 25) probabilities over :func:`labels`: a softmax of cosine matches, N forced on
    silent frames."""
    chroma = np.asarray(chroma, dtype=float)
    norm = np.linalg.norm(chroma, axis=0)
    cos = templates() @ (chroma / np.maximum(norm, 1e-9))  # (24, T)
    scores = np.vstack([cos, np.full((1, chroma.shape[1]), N_MATCH)]) * SHARPNESS
    prob = np.exp(scores - scores.max(axis=0))
    prob /= prob.sum(axis=0)
    silent = chroma.max(axis=0) < SILENT_PEAK
    prob[:, silent] = 0.0
    prob[-1, silent] = 1.0
    return prob.T


def recognise_chroma(chroma: np.ndarray, frame_seconds: float, duration: float) -> Chords:
    """Chords from chroma (12, T) whose frame i starts at i × frame_seconds; the last segment ends at duration."""
    if chroma.shape[1] == 0:
        return Chords([Segment(0.0, round(duration, 6), "N", 1.0)] if duration > 0 else [], duration, "template",
                      frame_seconds)
    prob = probabilities(chroma)
    path = viterbi(prob, P_SELF)
    names = labels()
    change = np.flatnonzero(path[1:] != path[:-1]) + 1
    starts, ends = np.concatenate([[0], change]), np.concatenate([change, [len(path)]])
    segs = [Segment(round(s * frame_seconds, 6), round(duration if e == len(path) else e * frame_seconds, 6),
                    names[path[s]], round(float(prob[s:e, path[s]].mean()), 6)) for s, e in zip(starts, ends)]
    return Chords(segs, duration, "template", frame_seconds)


def recognise(y: np.ndarray, sr: int) -> Chords:
    """The baseline on audio (samples,) at sr, from the analysis tab's STFT chroma (hop 512)."""
    from core import features

    chroma = features.chroma(np.asarray(y, dtype=np.float32), sr)
    return recognise_chroma(chroma, features.HOP_LENGTH / sr, len(y) / sr)
