"""Train or fit the effect models.

    python -m core.effects.train --effect reverb            # the bundled recipe for one effect
    python -m core.effects.train --effect fuzz --model tcn  # another model on a bundled effect
    python -m core.effects.train --all                      # every bundled model (what ships)
    python -m core.effects.train --dry a.wav --wet b.wav --model lstm --out my_model   # capture

Networks (cnn, lstm, tcn, wh) train with Adam on random excerpts, loss = pre-emphasised ESR + DC
(Wright et al.). Structured models (fir, taps, chorus, octave) are fitted in closed form (least squares)
or by a short Adam refinement from a measured starting point. Plain PyTorch: runs under torchrun unchanged.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core import validate
from core.audio import AudioError, cut_notice, load_audio
from core.effects import fx, metrics
from core.effects import models as M
from core.effects import nam
from core.effects.inference import peak_limit, run_model, single_thread
from core.training import (MODELS_DIR, Cancelled, ModelCard, progress_bar, save_checkpoint,  # noqa: F401 (Cancelled: re-exported)
                           set_seed)

OUT_DIR = MODELS_DIR / "effects"


# Bundled recipes: model kind, its constructor arguments and its fit settings, per effect.
RECIPES = {
    "distortion": dict(kind="tcn", kwargs=dict(channels=8, layers=6, n_cond=1), steps=1200, seq=4096, batch=8, lr=3e-3),
    "fuzz": dict(kind="lstm", kwargs=dict(hidden=32), steps=3000, seq=2048, batch=8, lr=5e-3, warmup=1024),
    "compression": dict(kind="lstm", kwargs=dict(hidden=32), steps=6000, seq=2048, batch=8, lr=5e-3, warmup=4096),
    "amp": dict(kind="wh", kwargs=dict(pre_taps=64, post_taps=1024, hidden=16), steps=1000, seq=8192, batch=8, lr=3e-3),
    "lowpass": dict(kind="fir", kwargs=dict(taps=4096)),
    "highpass": dict(kind="fir", kwargs=dict(taps=4096)),
    "octave": dict(kind="octave", kwargs=dict(taps=255)),
    "chorus": dict(kind="chorus", kwargs=dict()),
    "delay": dict(kind="taps", kwargs=dict(n_taps=12)),
    "reverb": dict(kind="fir", kwargs=dict(taps=66_150)),  # 1.5 s at 44.1 kHz, float16: 132 KB
}
# Default settings for a network chosen by hand (capture mode, --model on another effect).
NETWORK_DEFAULTS = {
    "cnn": dict(kwargs=dict(), steps=800, seq=4096, batch=8, lr=3e-3),
    "lstm": dict(kwargs=dict(hidden=32), steps=600, seq=2048, batch=8, lr=5e-3, warmup=1024),
    "tcn": dict(kwargs=dict(channels=8, layers=8, n_cond=0), steps=800, seq=4096, batch=8, lr=3e-3),
    "wh": dict(kwargs=dict(), steps=800, seq=8192, batch=8, lr=3e-3),
    "fir": dict(kwargs=dict(taps=44_100)),
    "taps": dict(kwargs=dict(n_taps=12)),
    "chorus": dict(kwargs=dict()),
    "octave": dict(kwargs=dict(taps=255)),
    # Neural Amp Modeler's own LSTMs (its "1x16" and "2x8"): a capture with one of these exports a .nam file.
    "nam-lstm-1x16": dict(kind="nam_lstm", kwargs=dict(hidden_size=16, num_layers=1), steps=600, seq=2048, batch=8,
                          lr=5e-3, warmup=1024),
    "nam-lstm-2x8": dict(kind="nam_lstm", kwargs=dict(hidden_size=8, num_layers=2), steps=600, seq=2048, batch=8,
                         lr=5e-3, warmup=1024),
}


def _tick(progress, frac, msg, cancel):
    if progress is not None:
        progress(frac, msg)
    if cancel is not None and cancel():
        raise Cancelled("Training was stopped.")


# ---------------------------------------------------------------- networks
def fit_network(model, dry, wet, steps=600, seq=2048, batch=8, lr=3e-3, warmup=0, cond_sampler=None,
                progress=None, cancel=None, seed=0, log_every=50) -> list[float]:
    """Adam on random excerpts. ``cond_sampler(rng) -> (knob vector, render fn)`` renders targets on the fly."""
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 20)
    rf = getattr(model, "receptive_field", 0)
    span = seq + warmup + rf
    if len(dry) <= span:
        raise ValueError(f"Need more than {span / fx.SR:.1f} s of audio to train this model.")
    history = []
    for step in range(steps):
        starts = rng.integers(0, len(dry) - span, batch)
        x = np.stack([dry[s : s + span] for s in starts])
        cond = None
        if cond_sampler is not None:
            conds, ys = zip(*[cond_sampler(rng, row) for row in x])
            y, cond = np.stack(ys), torch.tensor(np.stack(conds), dtype=torch.float32)
        else:
            y = np.stack([wet[s : s + span] for s in starts])
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        if getattr(model, "stateful", False) and warmup:
            with torch.no_grad():  # Wright: run a warm-up so the state is realistic, no gradient through it
                _, state = model(x[:, :warmup], return_state=True)
            y_hat = model(x[:, warmup:], state=state)
        else:
            y_hat = model(x, cond)
        loss = metrics.esr_loss(y[:, warmup + rf :], y_hat[..., warmup + rf :] if not getattr(model, "stateful", False) else y_hat[..., rf:])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history.append(loss.item())
        if step % log_every == 0 or step == steps - 1:
            _tick(progress, (step + 1) / steps, f"step {step + 1}/{steps}  loss {np.mean(history[-log_every:]):.4f}", cancel)
    return history


# ---------------------------------------------------------------- closed-form / structured fits
def fit_fir(model: M.LearnedFIR, dry, wet, reg=1e-4, progress=None, cancel=None):
    """Least-squares impulse response: H = Y X* / (|X|^2 + reg * mean|X|^2) over the whole signal, truncated."""
    _tick(progress, 0.1, "least-squares impulse response", cancel)
    n = len(dry) + model.ir.shape[0]
    nfft = 1 << (n - 1).bit_length()
    X = np.fft.rfft(np.asarray(dry, np.float64), nfft)
    Y = np.fft.rfft(np.asarray(wet, np.float64), nfft)
    p = np.abs(X) ** 2
    h = np.fft.irfft(Y * np.conj(X) / (p + reg * p.mean()), nfft)[: model.ir.shape[0]]
    model.ir.copy_(torch.from_numpy(h.astype(np.float16)))
    _tick(progress, 1.0, "done", cancel)
    return []


def fit_taps(model: M.TappedDelay, dry, wet, min_ms=2.0, max_s=2.0, progress=None, cancel=None):
    """Delay period from the cross-correlation peak away from lag 0, then the tap gains by least squares."""
    _tick(progress, 0.1, "finding the delay period", cancel)
    a, b = np.diff(dry.astype(np.float64)), np.diff(wet.astype(np.float64))
    nfft = 1 << (2 * len(a) - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(b, nfft) * np.conj(np.fft.rfft(a, nfft)), nfft)
    lo, hi = int(min_ms * fx.SR / 1000), min(int(max_s * fx.SR), len(a) - 1)
    period = lo + int(np.argmax(np.abs(xc[lo:hi])))
    model.period.fill_(period)
    cols = [np.pad(dry, (k * period, 0))[: len(dry)] for k in range(len(model.taps))]
    A = np.stack(cols, 1).astype(np.float64)
    taps, *_ = np.linalg.lstsq(A, wet.astype(np.float64), rcond=None)
    model.taps.data = torch.tensor(taps, dtype=torch.float32)
    _tick(progress, 1.0, "done", cancel)
    return []


def delay_track(dry, wet, sr=44_100, win=512, hop=256, lo_ms=0.5, hi_ms=30.0):
    """Per window, the lag d in [lo, hi] ms for which wet ~ a * dry + b * dry[n - d] explains most energy.

    Fitting the dry path jointly (rather than a plain cross-correlation) keeps the dry signal from masking the
    delayed copy. Windows are short because the delay moves; a broadband dry signal (noise) gives a clean track.
    """
    lo, hi = int(lo_ms * sr / 1000), int(hi_ms * sr / 1000)
    dry, wet = np.asarray(dry, np.float64), np.asarray(wet, np.float64)
    times, lags = [], []
    d = np.arange(hi + 1)
    for s in range(hi, len(dry) - win, hop):
        x, y, a = dry[s : s + win], wet[s : s + win], dry[s - hi : s + win]
        xx, yy = x @ x, y @ y
        if yy < 1e-6 or xx < 1e-6:
            continue
        c_yd = np.correlate(a, y, "valid")[::-1]  # <y, x delayed by d>
        c_xd = np.correlate(a, x, "valid")[::-1]  # <x, x delayed by d>
        cs = np.concatenate([[0.0], np.cumsum(a * a)])
        e_d = cs[hi - d + win] - cs[hi - d]
        yx = y @ x
        explained = (e_d * yx**2 - 2 * c_xd * yx * c_yd + xx * c_yd**2) / np.maximum(xx * e_d - c_xd**2, 1e-12)
        explained[:lo] = -np.inf
        times.append(s + win / 2)
        lags.append(float(np.argmax(explained)))
    return np.array(times), np.array(lags)


def fit_chorus(model: M.ModulatedDelay, dry, wet, steps=300, seconds=8.0, probe_seconds=10.0, progress=None, cancel=None, seed=0):
    """Measure the delay track on the first ``probe_seconds`` (a noise probe in the bundled recipe), fit a sinusoid
    to it (the LFO: rate by grid, centre/depth/phase by least squares, robust to outliers), then refine all six
    parameters by Adam on the waveform."""
    sr = model.sr
    _tick(progress, 0.05, "measuring the delay track", cancel)
    m = min(len(dry), int(probe_seconds * sr))
    t, lag = delay_track(dry[:m], wet[:m], sr)
    if len(t) < 8:
        raise ValueError("The chorus fit needs at least a few seconds of non-silent audio at the start.")
    best = None
    for rate in np.linspace(0.05, 5.0, 500):  # LFO rate: grid, then linear least squares for centre/depth/phase
        A = np.stack([np.ones_like(t), np.sin(2 * np.pi * rate * t / sr), np.cos(2 * np.pi * rate * t / sr)], 1)
        coef, *_ = np.linalg.lstsq(A, lag, rcond=None)
        err = np.sum(np.minimum(np.abs(A @ coef - lag), 20.0) ** 2)
        if best is None or err < best[0]:
            best = (err, rate, coef)
    _, rate, (c, s_, c_) = best
    with torch.no_grad():
        model.rate.fill_(rate)
        model.centre.fill_(c)
        model.depth.fill_(math.hypot(s_, c_))
        model.phase.fill_(math.atan2(c_, s_))
    n = min(len(dry), int(seconds * sr))
    x, y = torch.from_numpy(dry[:n]), torch.from_numpy(wet[:n])
    with torch.no_grad():  # dry and wet gains by least squares given the measured track
        A = torch.stack([x, M.delayed(x, model.delay_track(n))], 1).double()
        g = torch.linalg.lstsq(A, y.double()[:, None]).solution.squeeze(1)
        model.dry.fill_(float(g[0]))
        model.wet.fill_(float(g[1]))
    opt = torch.optim.Adam([{"params": [model.dry, model.wet], "lr": 1e-3}, {"params": [model.centre, model.depth], "lr": 0.05},
                            {"params": [model.rate], "lr": 1e-5}, {"params": [model.phase], "lr": 1e-3}])
    history = []
    for step in range(steps):
        loss = torch.mean((model(x[None])[0] - y) ** 2) / torch.mean(y**2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
        if step % 25 == 0:
            _tick(progress, 0.1 + 0.9 * step / steps, f"refining the LFO, ESR {history[-1]:.4f}", cancel)
    return history


def fit_octave(model: M.OctaveDivider, dry, wet, progress=None, cancel=None):
    """Spectral matching: |H| = sqrt(PSD(wet) / PSD(|x|.s)) (Welch), as a minimum-phase FIR.

    The pitch shifter's output phase cannot be predicted from the input, so a waveform least-squares fit only
    shrinks the output (thin, and far from the effect by MR-STFT); matching the long-term spectrum instead
    gives the effect's level and tone.
    """
    from scipy.signal import firwin2, minimum_phase, welch

    _tick(progress, 0.1, "dividing the input frequency", cancel)
    feat = model.features(torch.from_numpy(dry[None]))[0].numpy().astype(np.float64)
    _tick(progress, 0.5, "matching the spectrum", cancel)
    f, p_feat = welch(feat, fx.SR, nperseg=1024)
    _, p_wet = welch(wet.astype(np.float64), fx.SR, nperseg=1024)
    mag = np.sqrt(p_wet / np.maximum(p_feat, 1e-12 * p_feat.max()))
    h = minimum_phase(firwin2(model.fir.shape[0], f / (fx.SR / 2), mag), method="homomorphic", half=False)
    model.fir.data = torch.tensor(h, dtype=torch.float32)
    _tick(progress, 1.0, "done", cancel)
    return []


STRUCTURED = {"fir": fit_fir, "taps": fit_taps, "chorus": fit_chorus, "octave": fit_octave}


def fit(kind, dry, wet, kwargs=None, progress=None, cancel=None, seed=0, cond_sampler=None, **settings):
    """Build a model of ``kind`` and train/fit it on the pair; returns (model, loss history)."""
    set_seed(seed)
    model = M.build(kind, **(kwargs or {}))
    dry, wet = np.ascontiguousarray(dry, np.float32), np.ascontiguousarray(wet, np.float32)
    if kind in STRUCTURED:
        history = STRUCTURED[kind](model, dry, wet, progress=progress, cancel=cancel)
    else:
        history = fit_network(model, dry, wet, progress=progress, cancel=cancel, seed=seed, cond_sampler=cond_sampler, **settings)
    model.eval()
    return model, history


# ---------------------------------------------------------------- bundled models
def drive_sampler(effect: str = "distortion"):
    """Knob sampler for the conditioned TCN: a random drive per excerpt, target rendered on the fly."""
    lo, hi = fx.EFFECTS[effect].knob_ranges["drive_db"]

    def sample(rng, x):
        drive = float(rng.uniform(lo, hi))
        return np.array([(drive - lo) / (hi - lo)], np.float32), fx.render(effect, x, drive_db=drive)

    return sample


def train_bundled(effect: str, kind: str | None = None, name: str | None = None, seed: int = 0, quick: bool = False,
                  steps: int | None = None):
    from core.effects import data

    t0 = time.time()
    recipe = dict(RECIPES[effect]) if kind in (None, RECIPES[effect]["kind"]) else {"kind": kind, **NETWORK_DEFAULTS[kind]}
    kind = recipe.pop("kind")
    kwargs = recipe.pop("kwargs")
    if steps is not None and "steps" in recipe:
        recipe["steps"] = int(steps)
    if quick and "steps" in recipe:
        recipe["steps"] = max(20, recipe["steps"] // 20)
    dry = data.dry_set("train")
    if kind == "chorus":  # a broadband probe first, as when measuring gear: the delay track is clean on noise
        dry = np.concatenate([data.noise_probe(), dry])
    tail = int(2.0 * fx.SR)  # render with a tail so the last echoes are in the target
    dry = np.pad(dry, (0, tail))
    wet = fx.render(effect, dry)
    cond_sampler = drive_sampler(effect) if kind == "tcn" and kwargs.get("n_cond") else None
    print(f"[{effect}] {kind} {kwargs} {recipe}; {len(dry) / fx.SR:.0f} s of training audio", flush=True)
    model, history = fit(kind, dry, wet, kwargs, seed=seed, cond_sampler=cond_sampler,
                         progress=progress_bar(effect), **recipe)
    train_s = time.time() - t0
    name = name or effect
    directory = OUT_DIR / name
    config = {"kind": kind, "kwargs": kwargs, "effect": effect, "knobs": fx.EFFECTS[effect].knobs,
              "knob_ranges": fx.EFFECTS[effect].knob_ranges if cond_sampler else {}, "sr": fx.SR}
    result = metrics.held_out_scores(model.eval(), config)  # in memory: the weights are saved once, below
    card = ModelCard(
        name=f"effects/{name}",
        task=f"emulate the pedalboard effect '{effect}' ({fx.EFFECTS[effect].label}) at {fx.SR} Hz",
        architecture=f"{kind}: {type(model).__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())}), {M.n_params(model)} parameters",
        training_data=f"{len(dry) / fx.SR:.0f} s: 3 generator segments (chirps/sines/squares/saws/noise) + 6 rendered "
                      "instrument pieces (guitar/bass/keys, FluidR3_GM)" + (" + a 10 s white-noise probe" if kind == "chorus" else "")
                      + "; test = 3 held-out pieces (seeds 0, 5, 10), 32 s with a 2 s tail",
        command=f"python -m core.effects.train --effect {effect}" + (f" --model {kind} --name {name}" if name != effect else "")
        + (f" --steps {steps}" if steps is not None else ""),
        seed=seed,
        metrics={**result, "train_seconds": round(train_s, 1), "final_train_loss": history[-1] if history else None},
        config={**config, **recipe},
        notes=M.NOTES.get(kind, ""),
    )
    save_checkpoint(model, directory, card=card, extra=config)
    print(json.dumps({"effect": effect, "name": name, **result, "train_s": round(train_s, 1)}), flush=True)
    return directory


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
    notes: list = field(default_factory=list)  # warnings about the pair (clipping, cut to the cap)

    @property
    def latency_message(self) -> str | None:
        """What the latency finder did, for an information line (not a warning)."""
        return f"Removed a latency of {self.latency} samples ({1000 * self.latency / self.sr:.1f} ms)." if self.latency else None


#: The shortest pair a capture learns from: a few seconds of playing do not cover an effect's range.
MIN_CAPTURE_SECONDS = 10.0
#: Capture rates accepted (a pair trains at its own rate, and its .nam file says so).
MIN_CAPTURE_RATE, MAX_CAPTURE_RATE = 22_050, 192_000


def _rate_and_channels(src) -> tuple[int | None, int | None]:
    if isinstance(src, (tuple, list)):
        return int(src[0]), (1 if np.asarray(src[1]).ndim == 1 else min(np.asarray(src[1]).shape))
    import soundfile as sf

    try:
        info = sf.info(str(src))
        return int(info.samplerate), int(info.channels)
    except Exception:  # not a libsndfile format: load_audio decodes it (or says why not)
        return None, None


def load_pair(dry_source, wet_source, max_seconds: float = 120.0):
    """Read a dry/wet pair at its own sample rate, check rates, channels and lengths, and remove a constant
    latency. Returns (dry, wet, lag, notes, sample_rate)."""
    if dry_source is None or wet_source is None:
        raise AudioError("Capture needs two files: the dry recording and the same recording through the effect.")
    notes = []
    (dry_sr, dry_ch), (wet_sr, wet_ch) = _rate_and_channels(dry_source), _rate_and_channels(wet_source)
    if dry_sr and wet_sr and dry_sr != wet_sr:
        raise AudioError(f"The dry file is {dry_sr} Hz and the wet file {wet_sr} Hz: export both at the same sample rate.")
    if dry_ch and wet_ch and dry_ch != wet_ch:
        name = {1: "mono", 2: "stereo"}
        raise AudioError(f"The dry file is {name.get(dry_ch, f'{dry_ch} channels')} and the wet file "
                         f"{name.get(wet_ch, f'{wet_ch} channels')}: export both the same way (mono for a pedal or amp).")
    sr = dry_sr or wet_sr or fx.SR
    if not MIN_CAPTURE_RATE <= sr <= MAX_CAPTURE_RATE:
        raise AudioError(f"The pair is at {sr} Hz; capture works from {MIN_CAPTURE_RATE} to {MAX_CAPTURE_RATE} Hz.")
    dry, _ = load_audio(dry_source, sr=sr, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    wet, _ = load_audio(wet_source, sr=sr, mono=True, max_seconds=max_seconds, trim=True, allow_silence=False)
    if abs(len(dry) - len(wet)) > max(0.5 * sr, 0.1 * len(dry)):
        raise AudioError(
            f"The dry file is {len(dry) / sr:.1f} s and the wet file {len(wet) / sr:.1f} s: "
            "they must be the same take (lengths within 0.5 s)."
        )
    if len(dry) < MIN_CAPTURE_SECONDS * sr:
        raise AudioError(f"The pair is {len(dry) / sr:.1f} s long; give at least {MIN_CAPTURE_SECONDS:.0f} s of varied "
                         "playing for a useful capture.")
    for label, y, src in (("dry", dry, dry_source), ("wet", wet, wet_source)):
        if float(np.max(np.abs(y))) >= 0.999:
            notes.append(f"The {label} file is clipped; clipping is learned as part of the effect.")
        notes += cut_notice(src, max_seconds, f"The {label} file")
    lag = metrics.find_latency(dry, wet, sr)
    dry, wet = metrics.align(dry, wet, lag)
    return dry, wet, lag, notes, sr


#: Bounds on a capture's training steps (the tab's slider; the API is held to them too).
MIN_CAPTURE_STEPS, MAX_CAPTURE_STEPS = 20, 3000


def capture(dry_source, wet_source, model: str = "lstm", steps: int | None = None, progress=None, cancel=None) -> CaptureResult:
    """Train ``model`` on an external dry/wet pair: the last 20% is held out for the metrics."""
    if model not in NETWORK_DEFAULTS:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(NETWORK_DEFAULTS)}.")
    dry, wet, lag, notes, sr = load_pair(dry_source, wet_source)  # trained at the pair's own rate
    split = int(0.8 * len(dry))
    spec = NETWORK_DEFAULTS[model]
    kind = spec.get("kind", model)
    settings = {k: v for k, v in spec.items() if k not in ("kwargs", "kind")}
    if steps is not None and "steps" in settings:
        settings["steps"] = validate.number(steps, "Training steps", MIN_CAPTURE_STEPS, MAX_CAPTURE_STEPS, integer=True)
    kwargs = dict(spec["kwargs"])
    if model == "fir":
        kwargs["taps"] = min(kwargs["taps"], split // 2)
    with single_thread():  # small models train faster on one thread here (see single_thread)
        net, history = fit(kind, dry[:split], wet[:split], kwargs, progress=progress, cancel=cancel, **settings)
    if kind == "nam_lstm":  # start where the NAM plugin will, so the held-out figures are the .nam file's
        nam.settle(net)
    config = {"kind": kind, "kwargs": kwargs, "effect": "capture", "knobs": {}, "knob_ranges": {}, "sr": sr,
              "latency_samples": lag, "architecture": model}
    out = run_model(net, dry[split:], config, cancel=cancel)
    m = metrics.metrics_for(dry[split:], wet[split:], out)
    out, _ = peak_limit(out)
    return CaptureResult(kind, sr, lag, net, config, history, dry[split:], wet[split:], out, m, notes)


def save_capture(res: CaptureResult, directory) -> Path:
    """Weights + config + card for a captured model, loadable with ``core.effects.api.load(directory)``."""
    card = ModelCard(name=f"effects/{Path(directory).name}", task="emulate a captured effect from a dry/wet pair",
                     architecture=f"{res.config.get('architecture', res.kind)} ({M.n_params(res.model)} parameters)", training_data="user dry/wet pair, first 80%",
                     command="capture mode", seed=0, metrics={k: float(v) for k, v in res.metrics.items()}, config=res.config)
    save_checkpoint(res.model, directory, card=card, extra=res.config)
    if res.kind == "nam_lstm":  # and the file the Neural Amp Modeler plugin loads
        nam.export_nam(res.model, Path(directory) / "model.nam", res.sr,
                       metadata={"name": Path(directory).name, "validation_esr": float(res.metrics["ESR model vs effect"])})
    return Path(directory)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--effect", choices=fx.NAMES)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--model", choices=sorted(set(M.KINDS) | set(NETWORK_DEFAULTS)),
                        help="a model kind, or for a capture one of NETWORK_DEFAULTS (nam-lstm-1x16 exports a .nam)")
    parser.add_argument("--name")
    parser.add_argument("--dry")
    parser.add_argument("--wet")
    parser.add_argument("--out", help="capture: output folder (default assets/models/effects/capture-<model>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, help="override the recipe's number of training steps (networks)")
    parser.add_argument("--quick", action="store_true", help="a twentieth of the steps (smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.dry or args.wet:
        res = capture(args.dry, args.wet, model=args.model or "lstm", progress=progress_bar("capture"))
        out = Path(args.out or OUT_DIR / f"capture-{res.config.get('architecture', res.kind)}")
        save_capture(res, out)
        print(json.dumps({"latency_samples": res.latency, **res.metrics, "saved": str(out)}))
        return
    effects = fx.NAMES if args.all else [args.effect]
    if effects == [None]:
        parser.error("give --effect, --all, or --dry and --wet")
    for effect in effects:
        train_bundled(effect, args.model, args.name, args.seed, args.quick, args.steps)


if __name__ == "__main__":
    main()
