"""What the tab and the CLI call: apply a bundled emulation next to the real effect, and capture new effects.

The package reads one way: ``models`` (the networks and their notes) ← ``inference`` (load, run) ← ``metrics``
(ESR, MR-STFT, held-out scores) ← ``train`` (fit, bundled recipes, capture) ← ``evaluate`` (re-measure, cards)
and this module; ``figures`` draws, ``data`` makes the training and held-out audio.

    result = process("guitar.wav", "reverb")         # clean, effect, model + ESR/MR-STFT
    cap = capture("dry.wav", "wet.wav", model="lstm")  # latency-aligned pair -> trained model
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import registry, validate
from core.audio import check_min_seconds, cut_notice, load_audio, resample
from core.capability import Capability, register
from core.effects import fx
from core.effects.inference import (  # noqa: F401 (the API)
    CHUNK,
    PEAK_LIMIT,
    EffectModel,
    cond_vector,
    default_cond,
    peak_limit,
    run_model,
    single_thread,
)
from core.effects.metrics import metrics_for
from core.effects.train import (  # noqa: F401
    MAX_CAPTURE_STEPS,
    MIN_CAPTURE_STEPS,
    NAM_KINDS,
    CaptureResult,
    capture,
    load_pair,
    save_capture,
)
from core.training import MODELS_DIR, check_cancel

MODELS_ROOT = MODELS_DIR / "effects"
#: Longest input the tab processes (the bundled models run 10-100x real time; this bounds the wait and memory).
MAX_SECONDS = 60.0
#: Shortest input processed: two of the MR-STFT's largest (2048-sample) frames. Shorter input has nothing to hear
#: and breaks the metric's padding (a 100-sample file was an opaque RuntimeError).
MIN_SECONDS = 0.1
#: A dry signal whose own samples reach this is called clipped.
CLIP_PEAK = 0.999


def bundled() -> dict[str, Path]:
    """effect name -> folder of its bundled model (those present)."""
    return {e: MODELS_ROOT / e for e in fx.NAMES if (MODELS_ROOT / e / "model.safetensors").exists()}


def load(name_or_path: str) -> EffectModel:
    """A bundled emulation by effect name (``reverb``, ``distortion``, ...) or a trained model's folder (a capture,
    another size); loaded once and shared."""
    name = str(name_or_path)
    directory = MODELS_ROOT / name if name in fx.NAMES or (MODELS_ROOT / name).is_dir() else Path(name)
    if not (directory / "model.safetensors").exists():
        raise ValueError(f"No bundled model for {name!r}; available: {', '.join(bundled()) or 'none'}, or a trained "
                         "model's folder.")
    return registry.get(f"effects:{directory.resolve()}", lambda: EffectModel.from_pretrained(directory))


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

    def to_dict(self) -> dict:
        """JSON-ready: the effect, its knobs, the notes and the metrics (the audio goes as files)."""
        return {"effect": self.effect, "sample_rate": self.sr, "knobs": self.knobs, "notes": list(self.notes),
                "metrics": {k: round(float(v), 6) for k, v in self.metrics.items()},
                "worse_than_clean": self.worse_than_clean}

    def card_markdown(self) -> str:
        """The model's card as the tab shows it: architecture, notes, held-out figures and the command."""
        card = self.card
        if not card:
            return ""
        met = card.get("metrics", {})
        followed = card.get("config", {}).get("knob_ranges") or {}
        settings = ", ".join(f"{k}={self.knobs[k]:g}" for k in followed if k in self.knobs)
        grid = (f" Over its knob grid ({met['grid_settings']} settings, corners included) the held-out ESR is at worst "
                f"{met['grid_worst_esr_model']:.3g}, closer than clean at {met['grid_closer_than_clean']} of them."
                if met.get("grid_settings") else "")
        return ((f"**Knobs:** {settings}  \n" if settings else "")
                + f"**{card.get('name')}** — {_short(card.get('architecture', ''))}  \n{card.get('notes', '')}  \n"
                f"Held-out ESR {met.get('esr_model')} (clean {met.get('esr_clean')}), MR-STFT "
                f"{met.get('mrstft_model')} (clean {met.get('mrstft_clean')}).{grid} Trained with "
                f"`{card.get('command')}`.")

    def log_mels(self) -> list[np.ndarray]:
        """Log-mel spectrograms (dB, (n_mels, frames)) of clean, effect and model, for the figure."""
        from core import features

        return [features.log_mel(np.asarray(y, np.float32), self.sr)
                for y in (self.clean, self.effect_out, self.model_out)]

    @property
    def worse_than_clean(self) -> list[str]:
        """The measures ("ESR", "MR-STFT") by which the emulation is further from the effect than the clean input."""
        m = self.metrics
        return [name for name in ("ESR", "MR-STFT")
                if m.get(f"{name} model vs effect", 0.0) > m.get(f"{name} clean vs effect", float("inf"))]


def _short(architecture: str) -> str:
    """An architecture line as the tab shows it: a bank's grid coordinates as its size ("axes=[[0, 0.25, ...]]"
    becomes "a 5 x 3 knob grid"), floats to 4 significant digits."""
    import re

    def grid(m):
        axes = re.findall(r"\[([^\[\]]*)\]", m.group(0))
        return "a " + " x ".join(str(len(a.split(","))) for a in axes) + " knob grid"

    architecture = re.sub(r"axes=\[(\[[^\[\]]*\](, )?)+\]", grid, architecture)
    return re.sub(r"\d+\.\d{5,}", lambda m: f"{float(m.group(0)):.4g}", architecture)


def check_knobs(effect: str, config: dict, knobs: dict | None) -> dict:
    """The knob settings to run at: the model's defaults, overridden by ``knobs`` (each checked against the range
    the model was trained over; a knob the model does not follow is refused, naming the ones it does)."""
    ranges = config.get("knob_ranges") or {}
    knobs = dict(knobs or {})
    unknown = [k for k in knobs if k not in ranges]
    if unknown:
        follows = ", ".join(ranges) or "none (it was trained at one setting)"
        raise ValueError(f"The {effect} model has no knob {unknown[0]!r}; the knobs it follows: {follows}.")
    return {**config.get("knobs", {}),
            **{k: validate.number(v, fx.knob_label(k), *ranges[k]) for k, v in knobs.items()}}


def _load_dry(source, max_seconds: float = MAX_SECONDS, label: str = "The audio") -> tuple[np.ndarray, list]:
    notes = []
    y, sr = load_audio(source, sr=None, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    check_min_seconds(len(y), sr, MIN_SECONDS, "run an effect on it")
    # judged on the file's own samples: resampling rings past a peak of 0.99, which is not clipping
    if float(np.max(np.abs(y))) >= CLIP_PEAK:
        notes.append(f"{label} is clipped (it reaches full scale); the emulation is judged on the clipped signal.")
    y = resample(y, sr, fx.SR)
    notes += cut_notice(source, max_seconds, label)
    return y, notes


def process(source, effect: str, knobs: dict | None = None, max_seconds: float = MAX_SECONDS,
            progress=None, cancel=None) -> EffectResult:
    """Dry audio -> (real effect, bundled emulation) at 44.1 kHz, with ESR and MR-STFT against the real effect.

    ``progress(fraction, message)`` is told each stage; ``cancel()`` is checked between stages and per chunk
    (raising ``core.training.Cancelled``), so a request the client gave up on stops.
    """
    validate.choice(effect, "effect", fx.NAMES)
    report = progress or (lambda f, m: None)
    emulation = load(effect)
    model, config, card = emulation.net, emulation.config, emulation.card
    knobs = check_knobs(effect, config, knobs)
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


CAPABILITY = register(Capability(
    "effects", run=process, result=EffectResult, load=load, models_dir=MODELS_ROOT, default_model="reverb",
    bundled=lambda: list(bundled()), labels=tuple(fx.NAMES),
    examples=(MODELS_ROOT.parents[1] / "examples" / "effects" / "effects_guitar_di.flac",),
    evaluate="python -m core.effects.evaluate --update-cards"))
