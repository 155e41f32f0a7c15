"""Held-out material made of real recordings (the real dev set, ``core.data.real``), none of it seen in training.

The effects train on generated tones and SoundFont pieces; these are what they are judged on as well:
  * ``piano chords``   - three or four real piano notes of one package sounding together, onsets a few ms apart;
  * ``string chords``  - three real violin notes together (a small string section);
  * ``wind trio``      - a real flute, clarinet and trumpet note together;
  * ``music``          - 6 s excerpts of the real genre tracks (whole mixes);
  * ``solo notes``     - single real notes of every instrument (the monophonic case).
No recording of a singing voice is in the real dev set yet, so voice is not measured.

    python -m core.effects.evaluate --real --write    # every bundled model on this set
                                                      # -> docs/figures/effects_real.json
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from core.effects import fx

CHORD_S = 2.5
EXCERPT_S = 6.0
SEED = 0


def _read(path: str, seconds: float, offset: float = 0.0) -> np.ndarray:
    from core.audio import load_audio

    y, _ = load_audio(path, sr=fx.SR, mono=True, max_seconds=None, trim=False, allow_silence=True)
    y = y[int(offset * fx.SR) : int((offset + seconds) * fx.SR)]
    return np.pad(y, (0, max(0, int(seconds * fx.SR) - len(y)))).astype(np.float32)


def _mix(paths, rng, seconds=CHORD_S) -> np.ndarray:
    out = np.zeros(int(seconds * fx.SR), np.float32)
    for p in paths:
        lag = int(rng.integers(0, int(0.03 * fx.SR)))  # a human's chord is never sample-exact
        y = _read(p, seconds)
        out[lag:] += y[: len(out) - lag]
    return out


def _normalise(y: np.ndarray, peak: float = 0.5) -> np.ndarray:
    m = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (peak / m)).astype(np.float32) if m > 0 else y


def material(out_dir=None, n_chords: int = 8) -> dict[str, np.ndarray]:
    """name -> mono audio at 44.1 kHz, built the same way every time (seeded) from the cached real dev set.

    Raises ``FileNotFoundError`` when the set is not built (``python -m core.data.real --out .cache/real``)."""
    from core.data import real

    records = real.load_manifest(out_dir or real.DEFAULT_OUT)
    notes = defaultdict(lambda: defaultdict(list))
    tracks = []
    for r in records:
        if r["task"] == "instruments" and r.get("kind") == "note":
            notes[r["label"]][r["package"]].append(r["abs_path"])
        elif r["task"] == "genre":
            tracks.append(r["abs_path"])
    rng = np.random.default_rng(SEED)
    sets = {}
    piano = [sorted(v) for v in notes["piano"].values() if len(v) >= 4]
    if piano:
        chords = []
        for i in range(n_chords):
            pool = piano[i % len(piano)]
            chords.append(_normalise(_mix(rng.choice(pool, int(rng.integers(3, 5)), replace=False), rng)))
        sets["piano chords"] = np.concatenate(chords)
    violin = [p for v in notes["violin"].values() for p in sorted(v)]
    if len(violin) >= 3:
        sets["string chords"] = np.concatenate([_normalise(_mix(rng.choice(violin, 3, replace=False), rng))
                                                for _ in range(n_chords // 2)])
    winds = [sorted(p for v in notes[k].values() for p in v) for k in ("flute", "clarinet", "trumpet")]
    if all(winds):
        sets["wind trio"] = np.concatenate([_normalise(_mix([rng.choice(w) for w in winds], rng))
                                            for _ in range(n_chords // 2)])
    if tracks:
        sets["music"] = np.concatenate([_normalise(_read(p, EXCERPT_S, offset=20.0)) for p in sorted(tracks)[:8]])
    solo = [_normalise(_read(rng.choice(sorted(p for v in notes[k].values() for p in v)), CHORD_S))
            for k in sorted(notes) for _ in range(2)]
    if solo:
        sets["solo notes"] = np.concatenate(solo)
    if not sets:
        raise FileNotFoundError("The real dev set is empty; build it with python -m core.data.real --out .cache/real.")
    return sets
