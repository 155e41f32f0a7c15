"""Running an effect model: rebuild it from its folder, and apply it to audio (chunked, cancellable).

    model, config = load_model("assets/models/effects/reverb")
    y = run_model(model, x, config, default_cond(config))
"""
from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import numpy as np
import torch

from core.effects import models as M
from core.training import check_cancel, load_state

#: Outputs are limited to this peak so a model never hands back a clipped or exploding file.
PEAK_LIMIT = 0.99
CHUNK = 1 << 16  # the LSTM runs in chunks carrying its state, so memory does not grow with duration


def load_model(directory) -> tuple[torch.nn.Module, dict]:
    directory = Path(directory)
    config = json.loads((directory / "config.json").read_text())
    model = M.build(config["kind"], **config["kwargs"])
    state = load_state(directory)
    model.load_state_dict(state)
    model.eval()
    return model, config


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


_threads_lock = threading.Lock()
_single_users = 0
_threads_before = 1


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread while any caller is inside, then restore the count.

    An LSTM at batch 1 is ~441k tiny sequential steps a second of audio: with more than one thread every step
    pays a thread hand-off, and on a busy machine (oneDNN's spinning workers) that made 10 s of audio take 80 s
    instead of 0.6 s. The setting is process-wide, so other requests meanwhile also run on one thread (slower
    at worst, never wrong); a count of users (not a held lock) lets overlapping calls share it without waiting.
    """
    global _single_users, _threads_before
    with _threads_lock:
        if _single_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _single_users -= 1
            if _single_users == 0:
                torch.set_num_threads(_threads_before)


@torch.no_grad()
def run_model(model, x: np.ndarray, config: dict | None = None, cond=None, cancel=None) -> np.ndarray:
    """Apply a model to mono float32 audio; NaN-free, same length. ``cancel()`` is checked per chunk."""
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))[None]
    c = None if cond is None else torch.as_tensor(cond, dtype=torch.float32)[None]
    if getattr(model, "stateful", False):
        state, parts = None, []
        with single_thread():
            for s in range(0, xt.shape[-1], CHUNK):
                check_cancel(cancel)
                y, state = model(xt[:, s : s + CHUNK], state=state, return_state=True)
                parts.append(y)
        y = torch.cat(parts, -1)
    else:
        y = model(xt, c)
    return np.nan_to_num(y[0].numpy().astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def peak_limit(y: np.ndarray, limit: float = PEAK_LIMIT) -> tuple[np.ndarray, bool]:
    """Scale down (never up) so |y| <= limit; returns whether it had to."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (limit / peak), True) if peak > limit else (y, False)
