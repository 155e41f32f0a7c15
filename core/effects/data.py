"""Dry training audio and (dry, wet) pairs.

Two sources, both made here: the paper's generator (random chirps 80-1200 Hz, sines,
square and sawtooth waves in 10 s segments of varying density, plus white-noise bursts
that excite every frequency for the linear and time-based fits) and instrument audio
rendered with FluidSynth from simple generated MIDI (guitar, bass, keys programs).
Every instrument "piece" has its own seed; pieces with ``seed % 5 == 0`` are held out.
"""
from __future__ import annotations

import numpy as np

from core.effects import fx

SEGMENT_S = 10.0
PROGRAMS = {"guitar": [24, 25, 27, 29], "bass": [33, 34], "keys": [0, 4, 16]}
PITCH_RANGE = {"guitar": (52, 76), "bass": (28, 48), "keys": (48, 79)}


def generator_segment(seed: int, sr: int = fx.SR, seconds: float = SEGMENT_S) -> np.ndarray:
    """One segment of the paper's test-tone generator: tones of random kind, length, level and density."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = np.zeros(n, np.float32)
    density = rng.uniform(0.3, 1.0)  # fraction of time a tone sounds
    t0 = 0
    while t0 < n:
        length = int(rng.uniform(0.1, 1.2) * sr)
        if rng.random() < density:
            t = np.arange(min(length, n - t0)) / sr
            kind = rng.choice(["chirp", "sine", "square", "saw", "noise"], p=[0.3, 0.2, 0.2, 0.2, 0.1])
            f0, f1 = rng.uniform(80, 1200, 2)
            if kind == "chirp":
                phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(t[-1], 1e-3)))
            else:
                phase = 2 * np.pi * f0 * t
            if kind in ("chirp", "sine"):
                s = np.sin(phase)
            elif kind == "square":
                s = np.sign(np.sin(phase))
            elif kind == "saw":
                s = 2 * ((phase / (2 * np.pi)) % 1.0) - 1
            else:
                s = rng.standard_normal(len(t)) / 3
            env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)  # 10 ms fades, no clicks
            y[t0 : t0 + len(t)] = (s * env * rng.uniform(0.05, 0.9)).astype(np.float32)
        t0 += length
    return y


def instrument_piece(seed: int, sr: int = fx.SR, seconds: float = SEGMENT_S,
                     soundfont: str | None = None) -> np.ndarray:
    """A short generated phrase (random-walk melody, some chords) on a guitar, bass or keys program."""
    import pretty_midi

    from core.render import render_midi

    rng = np.random.default_rng(10_000 + seed)
    family = ["guitar", "bass", "keys"][seed % 3]
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(rng.uniform(80, 150)))
    inst = pretty_midi.Instrument(program=int(rng.choice(PROGRAMS[family])))
    lo, hi = PITCH_RANGE[family]
    pitch, t = int(rng.integers(lo, hi)), 0.0
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    while t < seconds - 0.5:
        dur = float(rng.choice([0.125, 0.25, 0.25, 0.5, 0.75, 1.0]))
        pitch = int(np.clip(pitch + rng.integers(-4, 5), lo, hi))
        chord = [pitch] + ([pitch + int(scale[2]), pitch + 7] if family != "bass" and rng.random() < 0.25 else [])
        vel = int(rng.integers(50, 120))
        for p in chord:
            inst.notes.append(pretty_midi.Note(velocity=vel, pitch=p, start=t,
                                               end=min(t + dur * rng.uniform(0.6, 1.0), seconds)))
        t += dur + (float(rng.choice([0, 0, 0.25])) if rng.random() < 0.2 else 0.0)
    pm.instruments.append(inst)
    y = render_midi(pm, sr=sr, soundfont=soundfont, normalize_peak=float(rng.uniform(0.3, 0.9))).audio
    n = int(seconds * sr)
    return np.pad(y[:n], (0, max(0, n - len(y)))).astype(np.float32)


def noise_probe(seconds: float = 10.0, sr: int = fx.SR, level: float = 0.2, seed: int = 1234) -> np.ndarray:
    """White noise: a broadband probe for measuring time-varying delays (the chorus fit)."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * sr)) * level).astype(np.float32)


def is_test_piece(seed: int) -> bool:
    return seed % 5 == 0


def dry_set(split: str, n_generator: int = 3, n_pieces: int = 6, sr: int = fx.SR) -> np.ndarray:
    """Concatenated dry audio for ``split`` ("train" or "test"); test = held-out instrument pieces only."""
    if split == "test":
        seeds = [s for s in range(5 * n_pieces) if is_test_piece(s)][: max(1, n_pieces // 2)]
        return np.concatenate([instrument_piece(s, sr) for s in seeds])
    seeds = [s for s in range(2 * n_pieces) if not is_test_piece(s)][:n_pieces]
    parts = [generator_segment(s, sr) for s in range(n_generator)] + [instrument_piece(s, sr) for s in seeds]
    return np.concatenate(parts)


_TEST = {}


def test_pair(effect: str, knobs: dict | None = None):
    """Held-out instrument pieces (dry) and the real effect on them, rendered with a 2 s tail."""
    if "dry" not in _TEST:
        _TEST["dry"] = np.pad(dry_set("test"), (0, 2 * fx.SR))
    dry = _TEST["dry"]
    return dry, fx.render(effect, dry, **(knobs or {}))
