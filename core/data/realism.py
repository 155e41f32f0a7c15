"""What real recordings have and SoundFont renders lack, as seeded augmentations: ``augment(y, sr) -> y``.

Each is one pedalboard chain (or a little numpy), named so its effect on the real dev set can be
measured alone (``python -m core.classify.evaluate --task genre --augment NAME``):

- ``room``: a room's reverb with early reflections and a pre-delay;
- ``mic``: microphone and console colouration — random shelves and one resonant peak, a roll-off;
- ``master``: mastering — bus compression, a make-up gain and a brick-wall limiter;
- ``noise``: hiss, hum and room tone at 25–45 dB below the signal;
- ``codec``: a lossy MP3 encode (VBR quality 4–9);
- ``band``: other instruments in the mix — a quiet copy of the signal pitch-shifted and delayed, for solo clips;
- ``all``: room → mic → band → master → noise → codec.
"""
from __future__ import annotations

import zlib

import numpy as np

NAMES = ("room", "mic", "master", "noise", "codec", "band", "all")


def _rng(y: np.ndarray, name: str, seed: int) -> np.random.Generator:
    # seeded by the signal itself, so one file always gets the same augmentation
    return np.random.default_rng([seed, zlib.crc32(np.ascontiguousarray(y[:4096]).tobytes()),
                                  zlib.crc32(name.encode())])


def room(y, sr, rng):
    import pedalboard as pb

    pre = pb.Delay(delay_seconds=rng.uniform(0.005, 0.03), feedback=0.0, mix=rng.uniform(0.1, 0.3))
    rev = pb.Reverb(room_size=rng.uniform(0.2, 0.9), damping=rng.uniform(0.2, 0.8), wet_level=rng.uniform(0.1, 0.35),
                    dry_level=rng.uniform(0.6, 0.9), width=rng.uniform(0.5, 1.0))
    return pb.Pedalboard([pre, rev])(y[None], sr)[0]


def mic(y, sr, rng):
    import pedalboard as pb

    chain = pb.Pedalboard([
        pb.HighpassFilter(cutoff_frequency_hz=rng.uniform(30, 180)),
        pb.LowShelfFilter(cutoff_frequency_hz=rng.uniform(80, 300), gain_db=rng.uniform(-6, 6)),
        pb.PeakFilter(cutoff_frequency_hz=rng.uniform(300, 5000), gain_db=rng.uniform(-8, 8), q=rng.uniform(0.5, 3)),
        pb.HighShelfFilter(cutoff_frequency_hz=rng.uniform(3000, 9000), gain_db=rng.uniform(-9, 5)),
        pb.LowpassFilter(cutoff_frequency_hz=rng.uniform(6000, 7900)),
    ])
    return chain(y[None], sr)[0]


def master(y, sr, rng):
    import pedalboard as pb

    chain = pb.Pedalboard([
        pb.Compressor(threshold_db=rng.uniform(-30, -12), ratio=rng.uniform(2, 8), attack_ms=rng.uniform(1, 30),
                      release_ms=rng.uniform(50, 300)),
        pb.Gain(gain_db=rng.uniform(6, 14)),
        pb.Limiter(threshold_db=rng.uniform(-3, -0.3), release_ms=rng.uniform(50, 200)),
    ])
    peak = float(np.max(np.abs(y))) or 1.0
    return chain((y / peak * 0.5)[None], sr)[0]


def noise(y, sr, rng):
    n = len(y)
    white = rng.standard_normal(n)
    pink = np.cumsum(white) * 0.02  # brown-ish room tone...
    pink -= np.convolve(pink, np.ones(2048) / 2048, mode="same")  # ...without its drift
    t = np.arange(n) / sr
    hum = np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * t) * 0.5
    mixture = rng.uniform(0.2, 1) * white + rng.uniform(0, 1) * pink + rng.uniform(0, 0.6) * hum
    rms_y = np.sqrt(np.mean(y ** 2)) + 1e-9
    rms_n = np.sqrt(np.mean(mixture ** 2)) + 1e-9
    snr_db = rng.uniform(25, 45)
    return y + mixture * (rms_y / rms_n) * 10 ** (-snr_db / 20)


def codec(y, sr, rng):
    import pedalboard as pb

    peak = float(np.max(np.abs(y))) or 1.0
    out = pb.MP3Compressor(vbr_quality=float(rng.uniform(4, 9)))((y / max(peak, 1.0))[None], sr)[0]
    return out[: len(y)] * max(peak, 1.0)


def band(y, sr, rng):
    import pedalboard as pb

    other = pb.Pedalboard([pb.PitchShift(semitones=float(rng.choice([-12, -7, -5, 5, 7]))),
                           pb.Delay(delay_seconds=rng.uniform(0.1, 0.6), feedback=0.0, mix=1.0)])(y[None], sr)[0]
    return y + other[: len(y)] * 10 ** (-rng.uniform(10, 20) / 20)


_FUNCS = {"room": room, "mic": mic, "master": master, "noise": noise, "codec": codec, "band": band}


def augment(y: np.ndarray, sr: int, name: str, seed: int = 0) -> np.ndarray:
    """Apply the named augmentation (``NAMES``); the output has the input's length and a safe peak."""
    if name not in NAMES:
        raise ValueError(f"Unknown augmentation {name!r}; choose from {', '.join(NAMES)}.")
    y = np.asarray(y, dtype=np.float32)
    steps = ["room", "mic", "band", "master", "noise", "codec"] if name == "all" else [name]
    for step in steps:
        y = np.asarray(_FUNCS[step](y, sr, _rng(y, step, seed)), dtype=np.float32)[: len(y)]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y / peak * 0.99).astype(np.float32) if peak > 0.99 else y
