"""Running an effect model: rebuild it from its folder, and apply it to audio (chunked, cancellable).

    reverb = EffectModel.from_pretrained("assets/models/effects/reverb")   # or core.effects.api.load("reverb")
    y = reverb(x, 44_100)                       # like a pedalboard effect; knobs as keywords: drive_db=20
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.effects import models as M
from core.threads import single_thread
from core.training import check_cancel, load_state, read_card

#: Outputs are limited to this peak so a model never hands back a clipped or exploding file.
PEAK_LIMIT = 0.99
CHUNK = 1 << 16  # the LSTM runs in chunks carrying its state, so memory does not grow with duration


@dataclass
class EffectModel:
    """A trained emulation and what rebuilt it (``config.json``) and describes it (``card.json``).

    Called like a pedalboard effect, ``model(audio, sample_rate, **knobs)`` returns the processed mono audio.
    """

    name: str
    net: torch.nn.Module
    config: dict
    card: dict = field(default_factory=dict)

    @classmethod
    def from_pretrained(cls, directory) -> "EffectModel":
        """Rebuild any trained model (bundled, captured, or of another size) from the config beside its weights."""
        directory = Path(directory)
        if not (directory / "model.safetensors").exists() or not (directory / "config.json").exists():
            raise ValueError(f"No trained effect model in {directory} (model.safetensors + config.json).")
        config = json.loads((directory / "config.json").read_text())
        net = M.build(config["kind"], **config["kwargs"])
        net.load_state_dict(load_state(directory))
        # On the CPU whatever --device says: the LSTM runs sample by sample at batch 1 (see single_thread),
        # which a GPU only slows down; bench/bench_effects.py times the GPU where there is one.
        return cls(directory.name, net.eval(), config, read_card(directory))

    @property
    def sample_rate(self) -> int:
        return int(self.config.get("sr", 44_100))

    def __call__(self, audio: np.ndarray, sample_rate: int, cancel=None, **knobs) -> np.ndarray:
        if int(sample_rate) != self.sample_rate:
            raise ValueError(f"This model runs at {self.sample_rate} Hz; resample the audio first "
                             "(core.audio.load_audio(..., sr=model.sample_rate)).")
        return run_model(self.net, audio, self.config, cond_vector(self.config, knobs), cancel=cancel)


def cond_vector(config: dict, knobs: dict) -> np.ndarray | None:
    ranges = config.get("knob_ranges") or {}
    if not ranges:
        return None
    vals = []
    for knob, (lo, hi) in ranges.items():
        v = float(knobs.get(knob, config["knobs"][knob]))
        if not lo <= v <= hi:
            raise ValueError(f"{knob} must be between {lo:g} and {hi:g} for this model (got {v:g}).")
        vals.append((v - lo) / (hi - lo))
    return np.array(vals, np.float32)


def default_cond(config: dict):
    return cond_vector(config, config.get("knobs", {}))


#: Samples per piece when a feed-forward model streams a long file (6 s): memory stays bounded whatever the length.
STREAM_CHUNK = 1 << 18


def context(model) -> int | None:
    """How many past input samples one output sample of a feed-forward model depends on (None: unknown, so the
    model runs in one pass). Models say so with ``context`` or their ``receptive_field``."""
    if hasattr(model, "context"):
        return None if model.context is None else int(model.context)
    rf = getattr(model, "receptive_field", 0)
    return int(rf) if rf else None


@torch.no_grad()
def run_model(model, x: np.ndarray, config: dict | None = None, cond=None, cancel=None,
              chunk: int | None = STREAM_CHUNK) -> np.ndarray:
    """Apply a model to mono float32 audio; NaN-free, same length. ``cancel()`` is checked per chunk.

    Long inputs stream: recurrent models carry their state from chunk to chunk, feed-forward ones read each
    chunk with the :func:`context` before it, so a 10-minute file takes bounded memory and gives the samples
    one pass would (``tests/test_effects.py`` holds every bundled model to 1e-5). ``chunk=None``: one pass.
    """
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))[None]
    c = None if cond is None else torch.as_tensor(cond, dtype=torch.float32)[None]
    n = xt.shape[-1]
    if getattr(model, "stateful", False):
        # A model whose output comes ``latency`` samples late (the phase vocoder's whole hops) is fed that much
        # silence after the input, and its first ``latency`` samples are dropped.
        latency = int(getattr(model, "latency", 0))
        if latency:  # ... plus ``flush`` more, so the last whole hop is out
            xt = torch.nn.functional.pad(xt, (0, latency + int(getattr(model, "flush", 0))))
        step = xt.shape[-1] if chunk is None else min(chunk, CHUNK)
        state, parts = None, []
        with single_thread():
            for s in range(0, xt.shape[-1], step):
                check_cancel(cancel)
                y, state = model(xt[:, s : s + step], c, state=state, return_state=True)
                parts.append(y)
        y = torch.cat(parts, -1)[..., latency : latency + n]
    elif chunk is None or context(model) is None or n <= chunk:
        y = model(xt, c)
    else:
        past, parts = context(model), []
        timed = getattr(model, "absolute_time", False)  # its output depends on n itself (an LFO's phase)
        for s in range(0, n, chunk):
            check_cancel(cancel)
            a = max(0, s - past)
            seg = xt[:, a : s + chunk]
            out = model(seg, c, offset=a) if timed else model(seg, c)
            parts.append(out[..., s - a :])
        y = torch.cat(parts, -1)
    return np.nan_to_num(y[0].numpy().astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def peak_limit(y: np.ndarray, limit: float = PEAK_LIMIT) -> tuple[np.ndarray, bool]:
    """Scale down (never up) so |y| <= limit; returns whether it had to."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (limit / peak), True) if peak > limit else (y, False)
