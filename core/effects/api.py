"""What the tab and the CLI call: apply a bundled emulation next to the real effect, and capture new effects.

    result = process("guitar.wav", "reverb")         # clean, effect, model + ESR/MR-STFT
    cap = capture("dry.wav", "wet.wav", model="lstm")  # latency-aligned pair -> trained model
"""
from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core import registry, validate
from core.audio import AudioError, audio_duration, load_audio
from core.effects import fx, metrics, train
from core.effects import models as M
from core.training import MODELS_DIR, check_cancel, load_state, read_card

MODELS_ROOT = MODELS_DIR / "effects"
#: Longest input the tab processes (the bundled models run 10-100x real time; this bounds the wait and memory).
MAX_SECONDS = 60.0
#: Outputs are limited to this peak so a model never hands back a clipped or exploding file.
PEAK_LIMIT = 0.99
CHUNK = 1 << 16  # the LSTM runs in chunks carrying its state, so memory does not grow with duration


def bundled() -> dict[str, Path]:
    """effect name -> folder of its bundled model (those present)."""
    return {e: MODELS_ROOT / e for e in fx.NAMES if (MODELS_ROOT / e / "model.safetensors").exists()}


def load_model(directory) -> tuple[torch.nn.Module, dict]:
    directory = Path(directory)
    config = json.loads((directory / "config.json").read_text())
    model = M.build(config["kind"], **config["kwargs"])
    state = load_state(directory)
    model.load_state_dict(state)
    model.eval()
    return model, config


def get_model(name: str):
    """Cached (model, config, card) for a bundled model folder name."""
    directory = MODELS_ROOT / name
    if not (directory / "model.safetensors").exists():
        raise ValueError(f"No bundled model for {name!r}; available: {', '.join(bundled()) or 'none'}.")
    return registry.get(f"effects/{name}", lambda: (*load_model(directory), read_card(directory)))


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


@dataclass
class EffectResult:
    effect: str
    sr: int
    clean: np.ndarray
    effect_out: np.ndarray  # the real pedalboard effect
    model_out: np.ndarray
    metrics: dict
    card: dict
    knobs: dict
    notes: list = field(default_factory=list)

    @property
    def worse_than_clean(self) -> list[str]:
        """The measures ("ESR", "MR-STFT") by which the emulation is further from the effect than the clean input."""
        m = self.metrics
        return [name for name in ("ESR", "MR-STFT")
                if m.get(f"{name} model vs effect", 0.0) > m.get(f"{name} clean vs effect", float("inf"))]


def _load_dry(source, max_seconds: float = MAX_SECONDS, label: str = "The audio") -> tuple[np.ndarray, list]:
    notes = []
    y, sr = load_audio(source, sr=fx.SR, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    if float(np.max(np.abs(y))) >= 0.999:
        notes.append(f"{label} is clipped (it reaches full scale); the emulation is judged on the clipped signal.")
    notes += _cut_notice(source, max_seconds, label)
    return y, notes


def _cut_notice(source, max_seconds: float, label: str) -> list[str]:
    """Input cut to its first ``max_seconds`` is always announced."""
    total = audio_duration(source)
    if total > max_seconds + 0.5:
        return [f"{label} is {total:.0f} s long; only the first {max_seconds:.0f} s were processed."]
    return []


def process(source, effect: str, knobs: dict | None = None, max_seconds: float = MAX_SECONDS,
            progress=None, cancel=None) -> EffectResult:
    """Dry audio -> (real effect, bundled emulation) at 44.1 kHz, with ESR and MR-STFT against the real effect.

    ``progress(fraction, message)`` is told each stage; ``cancel()`` is checked between stages and per chunk
    (raising ``core.training.Cancelled``), so a request the client gave up on stops.
    """
    validate.choice(effect, "effect", fx.NAMES)
    report = progress or (lambda f, m: None)
    model, config, card = get_model(effect)
    ranges = config.get("knob_ranges") or {}
    knobs = {**config.get("knobs", {}), **{k: validate.number(v, k, *ranges[k]) for k, v in (knobs or {}).items()
                                             if k in ranges}}
    report(0.05, "reading the input")
    x, notes = _load_dry(source, max_seconds)
    tail = int(1.0 * fx.SR) if fx.EFFECTS[effect].family == "time" else 0  # let echoes and reverb ring out
    x = np.pad(x, (0, tail))
    check_cancel(cancel)
    report(0.2, "rendering the real effect")
    wet = fx.render(effect, x, **knobs)
    check_cancel(cancel)
    report(0.4, "running the emulation")
    out = run_model(model, x, config, cond_vector(config, knobs), cancel=cancel)
    check_cancel(cancel)
    report(0.8, "measuring ESR and MR-STFT")
    m = metrics_for(x, wet, out)
    out, limited = peak_limit(out)
    wet, _ = peak_limit(wet)
    if limited:
        notes.append("The model output peaked above 0 dBFS and was scaled down to -0.1 dBFS.")
    return EffectResult(effect, fx.SR, x, wet, out, m, card, knobs, notes)


def metrics_for(dry, wet, out) -> dict:
    return {
        "ESR model vs effect": metrics.esr(wet, out),
        "ESR clean vs effect": metrics.esr(wet, dry),
        "MR-STFT model vs effect": metrics.mr_stft(wet, out),
        "MR-STFT clean vs effect": metrics.mr_stft(wet, dry),
    }


# ---------------------------------------------------------------- capture mode
@dataclass
class CaptureResult:
    kind: str
    sr: int
    latency: int  # samples the wet file lagged the dry one (removed before training)
    model: torch.nn.Module
    config: dict
    history: list
    dry: np.ndarray  # aligned held-out tail
    wet: np.ndarray
    out: np.ndarray
    metrics: dict
    notes: list = field(default_factory=list)


def load_pair(dry_source, wet_source, max_seconds: float = 120.0):
    """Read a dry/wet pair, check rates and lengths, and remove a constant latency. Returns (dry, wet, lag, notes)."""
    if dry_source is None or wet_source is None:
        raise AudioError("Capture needs two files: the dry recording and the same recording through the effect.")
    notes = []
    rates = []
    for src in (dry_source, wet_source):
        if isinstance(src, (tuple, list)):
            rates.append(int(src[0]))
        else:
            import soundfile as sf

            try:
                rates.append(int(sf.info(str(src)).samplerate))
            except Exception:
                rates.append(None)
    if None not in rates and rates[0] != rates[1]:
        raise AudioError(f"The dry file is {rates[0]} Hz and the wet file {rates[1]} Hz: export both at the same sample rate.")
    dry, _ = load_audio(dry_source, sr=fx.SR, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    wet, _ = load_audio(wet_source, sr=fx.SR, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    if abs(len(dry) - len(wet)) > max(0.5 * fx.SR, 0.1 * len(dry)):
        raise AudioError(
            f"The dry file is {len(dry) / fx.SR:.1f} s and the wet file {len(wet) / fx.SR:.1f} s: "
            "they must be the same take (lengths within 0.5 s)."
        )
    if len(dry) < 3 * fx.SR:
        raise AudioError("The pair is shorter than 3 s; give at least 10 s of varied playing for a useful capture.")
    for label, y, src in (("dry", dry, dry_source), ("wet", wet, wet_source)):
        if float(np.max(np.abs(y))) >= 0.999:
            notes.append(f"The {label} file is clipped; clipping is learned as part of the effect.")
        notes += _cut_notice(src, max_seconds, f"The {label} file")
    lag = metrics.find_latency(dry, wet, fx.SR)
    dry, wet = metrics.align(dry, wet, lag)
    if lag:
        notes.append(f"Removed a latency of {lag} samples ({1000 * lag / fx.SR:.1f} ms).")
    return dry, wet, lag, notes


#: Bounds on a capture's training steps (the tab's slider; the API is held to them too).
MIN_CAPTURE_STEPS, MAX_CAPTURE_STEPS = 20, 3000


def capture(dry_source, wet_source, model: str = "lstm", steps: int | None = None, progress=None, cancel=None) -> CaptureResult:
    """Train ``model`` on an external dry/wet pair: the last 20% is held out for the metrics."""
    if model not in train.NETWORK_DEFAULTS:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(train.NETWORK_DEFAULTS)}.")
    dry, wet, lag, notes = load_pair(dry_source, wet_source)
    split = int(0.8 * len(dry))
    settings = {k: v for k, v in train.NETWORK_DEFAULTS[model].items() if k != "kwargs"}
    if steps is not None and "steps" in settings:
        settings["steps"] = validate.number(steps, "Training steps", MIN_CAPTURE_STEPS, MAX_CAPTURE_STEPS, integer=True)
    kwargs = dict(train.NETWORK_DEFAULTS[model]["kwargs"])
    if model == "fir":
        kwargs["taps"] = min(kwargs["taps"], split // 2)
    with single_thread():  # small models train faster on one thread here (see single_thread)
        net, history = train.fit(model, dry[:split], wet[:split], kwargs, progress=progress, cancel=cancel, **settings)
    config = {"kind": model, "kwargs": kwargs, "effect": "capture", "knobs": {}, "knob_ranges": {}, "sr": fx.SR, "latency_samples": lag}
    out = run_model(net, dry[split:], config, cancel=cancel)
    m = metrics_for(dry[split:], wet[split:], out)
    out, _ = peak_limit(out)
    return CaptureResult(model, fx.SR, lag, net, config, history, dry[split:], wet[split:], out, m, notes)


def save_capture(res: CaptureResult, directory) -> Path:
    """Weights + config + card for a captured model, loadable with :func:`load_model`."""
    from core.training import ModelCard, save_checkpoint

    card = ModelCard(name=f"effects/{Path(directory).name}", task="emulate a captured effect from a dry/wet pair",
                     architecture=f"{res.kind} ({M.n_params(res.model)} parameters)", training_data="user dry/wet pair, first 80%",
                     command="capture mode", seed=0, metrics={k: float(v) for k, v in res.metrics.items()}, config=res.config)
    return save_checkpoint(res.model, directory, card=card, extra=res.config)
