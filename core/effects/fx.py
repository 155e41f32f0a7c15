"""The ten reference effects, rendered by pedalboard (real DSP), with the knob settings the bundled models learned.

Each effect is a function ``render(name, x, sr, **knobs) -> y`` on mono float32.
The defaults in :data:`EFFECTS` are the settings the tab starts at; every bundled model is conditioned on the
knobs in ``knob_ranges`` (one slider each in the tab) and follows them over those ranges; the other knobs stay
at their defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SR = 44_100


@dataclass(frozen=True)
class Effect:
    name: str
    family: str  # "amplitude", "frequency" or "time"
    label: str
    knobs: dict = field(default_factory=dict)  # defaults the bundled model was trained with
    knob_ranges: dict = field(default_factory=dict)  # knobs the bundled model is conditioned on


EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in [
        Effect("distortion", "amplitude", "Distortion (tanh drive)", {"drive_db": 20.0}, {"drive_db": (6.0, 30.0)}),
        Effect("fuzz", "amplitude", "Fuzz (asymmetric hard clipping)",
               {"gain_db": 24.0, "bias": 0.3, "threshold_db": -6.0},
               {"gain_db": (12.0, 36.0)}),
        Effect("compression", "amplitude", "Compressor",
               {"threshold_db": -24.0, "ratio": 6.0, "attack_ms": 5.0, "release_ms": 100.0},
               {"threshold_db": (-40.0, -6.0), "ratio": (2.0, 20.0), "attack_ms": (1.0, 30.0),
                "release_ms": (30.0, 300.0)}),
        Effect("amp", "amplitude", "Amplifier + cabinet", {"drive_db": 24.0, "tone_db": 3.0},
               {"drive_db": (12.0, 36.0), "tone_db": (-6.0, 9.0)}),
        Effect("lowpass", "frequency", "Low-pass ladder filter", {"cutoff_hz": 800.0, "resonance": 0.3},
               {"cutoff_hz": (200.0, 8000.0), "resonance": (0.0, 0.7)}),
        Effect("highpass", "frequency", "High-pass ladder filter", {"cutoff_hz": 1000.0, "resonance": 0.3},
               {"cutoff_hz": (100.0, 4000.0), "resonance": (0.0, 0.7)}),
        Effect("pitch", "frequency", "Pitch shift (polyphonic)", {"semitones": -12.0}, {"semitones": (-12.0, 12.0)}),
        Effect("chorus", "time", "Chorus", {"rate_hz": 1.0, "depth": 0.25, "centre_delay_ms": 7.0, "mix": 0.5},
               {"rate_hz": (0.1, 5.0), "depth": (0.05, 0.5)}),
        Effect("delay", "time", "Delay (feedback echo)", {"delay_seconds": 0.25, "feedback": 0.35, "mix": 0.35},
               {"delay_seconds": (0.05, 1.0), "feedback": (0.0, 0.8)}),
        Effect("reverb", "time", "Reverb", {"room_size": 0.5, "damping": 0.5, "wet_level": 0.33, "dry_level": 0.4},
               {"room_size": (0.1, 0.9), "damping": (0.1, 0.9)}),
    ]
}
NAMES = tuple(EFFECTS)

#: What the tab calls each conditioned knob, and its slider step.
KNOB_LABELS = {
    "drive_db": ("Drive (dB)", 0.5), "gain_db": ("Gain (dB)", 0.5), "threshold_db": ("Threshold (dB)", 0.5),
    "ratio": ("Ratio (:1)", 0.1), "attack_ms": ("Attack (ms)", 0.5), "release_ms": ("Release (ms)", 1.0),
    "tone_db": ("Tone: treble shelf (dB)", 0.5), "cutoff_hz": ("Cutoff (Hz)", 10.0), "resonance": ("Resonance", 0.01),
    "semitones": ("Semitones", 0.5), "rate_hz": ("Rate (Hz)", 0.05), "depth": ("Depth", 0.01),
    "delay_seconds": ("Delay time (s)", 0.01), "feedback": ("Feedback", 0.01), "room_size": ("Room size", 0.01),
    "damping": ("Damping", 0.01),
}
#: The most knobs one effect's model follows (the tab has this many sliders).
MAX_KNOBS = max(len(e.knob_ranges) for e in EFFECTS.values())


def knob_label(knob: str) -> str:
    return KNOB_LABELS.get(knob, (knob, 0.01))[0]


def board(name: str, **knobs):
    """The pedalboard chain for one effect (knobs override the trained defaults)."""
    import pedalboard as pb

    if name not in EFFECTS:
        raise ValueError(f"Unknown effect {name!r}; choose one of {', '.join(NAMES)}.")
    k = {**EFFECTS[name].knobs, **knobs}
    if name == "distortion":
        return pb.Pedalboard([pb.Distortion(drive_db=k["drive_db"])])
    if name == "fuzz":  # the bias is added in render(); pedalboard clips hard and symmetrically
        return pb.Pedalboard([pb.Clipping(threshold_db=k["threshold_db"])])
    if name == "compression":
        return pb.Pedalboard([pb.Compressor(threshold_db=k["threshold_db"], ratio=k["ratio"], attack_ms=k["attack_ms"],
                                            release_ms=k["release_ms"])])
    if name == "amp":  # drive -> tone EQ -> cabinet filtering
        return pb.Pedalboard([
            pb.HighpassFilter(cutoff_frequency_hz=120.0),
            pb.Distortion(drive_db=k["drive_db"]),
            pb.PeakFilter(cutoff_frequency_hz=700.0, gain_db=-5.0, q=0.8),  # mid scoop
            pb.HighShelfFilter(cutoff_frequency_hz=3000.0, gain_db=k["tone_db"]),  # the treble (tone) knob
            pb.HighpassFilter(cutoff_frequency_hz=90.0),  # cabinet: closed-back low end,
            pb.PeakFilter(cutoff_frequency_hz=2500.0, gain_db=6.0, q=2.0),  # speaker presence peak,
            pb.LowpassFilter(cutoff_frequency_hz=4500.0),  # and the speaker roll-off
            pb.Gain(gain_db=-8.0),
        ])
    if name in ("lowpass", "highpass"):
        mode = pb.LadderFilter.Mode.LPF24 if name == "lowpass" else pb.LadderFilter.Mode.HPF24
        return pb.Pedalboard([pb.LadderFilter(mode=mode, cutoff_hz=k["cutoff_hz"], resonance=k["resonance"],
                                              drive=1.0)])
    if name == "pitch":
        return pb.Pedalboard([pb.PitchShift(semitones=k["semitones"])])
    if name == "chorus":
        return pb.Pedalboard([pb.Chorus(rate_hz=k["rate_hz"], depth=k["depth"], centre_delay_ms=k["centre_delay_ms"],
                                        feedback=0.0, mix=k["mix"])])
    if name == "delay":
        return pb.Pedalboard([pb.Delay(delay_seconds=k["delay_seconds"], feedback=k["feedback"], mix=k["mix"])])
    return pb.Pedalboard([pb.Reverb(room_size=k["room_size"], damping=k["damping"], wet_level=k["wet_level"],
                                    dry_level=k["dry_level"], width=1.0)])


def render(name: str, x: np.ndarray, sr: int = SR, **knobs) -> np.ndarray:
    """Process mono ``x`` through the real effect; same length, float32."""
    x = np.asarray(x, dtype=np.float32)
    k = {**EFFECTS.get(name, Effect(name, "", "")).knobs, **knobs}
    if name == "fuzz":  # asymmetric clipping: gain and DC bias before a symmetric clipper, bias removed after
        g = np.float32(10 ** (k["gain_db"] / 20))
        t = np.float32(10 ** (k["threshold_db"] / 20))
        y = board(name, **knobs)(x[None, :] * g + np.float32(k["bias"]), sr)[0]
        return (y - np.clip(np.float32(k["bias"]), -t, t)).astype(np.float32)
    y = board(name, **knobs)(x[None, :], sr)[0]
    return np.ascontiguousarray(y[: len(x)], dtype=np.float32)
