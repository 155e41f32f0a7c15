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
from core.effects import fx, metrics, nam
from core.effects import models as M
from core.effects.inference import peak_limit, run_model, single_thread
from core.training import MODELS_DIR, Cancelled, ModelCard, progress_bar, save_checkpoint, set_seed  # noqa: F401 (Cancelled: re-exported)

OUT_DIR = MODELS_DIR / "effects"


# Bundled recipes: model kind, its constructor arguments and its fit settings, per effect. Every bundled model
# follows the knobs in its effect's ``fx.EFFECTS[...].knob_ranges``; a "grid" gives the knob settings a bank model
# is fitted at (in knob units; interpolated between), the networks see random settings every excerpt.
RECIPES = {
    "distortion": dict(kind="tcn", kwargs=dict(channels=8, layers=6, n_cond=1), steps=1200, seq=4096, batch=8, lr=3e-3),
    "fuzz": dict(kind="lstm", kwargs=dict(hidden=32, n_cond=1), steps=10000, seq=2048, batch=8, lr=5e-3, warmup=1024),
    "compression": dict(kind="gain_lstm", kwargs=dict(hidden=32, n_cond=4), steps=12000, seq=2048, batch=8, lr=5e-3,
                        warmup=4096),
    "amp": dict(kind="wh", kwargs=dict(pre_taps=64, post_taps=1024, hidden=16, drive_range=(12.0, 36.0), tone_terms=2),
                steps=4000, seq=8192, batch=8, lr=3e-3),
    "lowpass": dict(kind="fir_bank", kwargs=dict(taps=4096),
                    grid={"cutoff_hz": np.geomspace(200.0, 8000.0, 17).round(1).tolist(),
                          "resonance": [0.0, 0.175, 0.35, 0.525, 0.7]}),
    "highpass": dict(kind="fir_bank", kwargs=dict(taps=4096),
                     grid={"cutoff_hz": np.geomspace(100.0, 4000.0, 17).round(1).tolist(),
                           "resonance": [0.0, 0.175, 0.35, 0.525, 0.7]}),
    "pitch": dict(kind="vocoder", kwargs=dict(semitone_range=(-12.0, 12.0), phase_lock=True)),
    "chorus": dict(kind="chorus", kwargs=dict(rate_range=(0.1, 5.0), depth_range=(0.05, 0.5))),
    "delay": dict(kind="delay_bank", kwargs=dict(n_taps=12, time_range=(0.05, 1.0)),
                  grid={"feedback": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]}),
    "reverb": dict(kind="fir_bank", kwargs=dict(taps=66_150),  # 1.5 s at 44.1 kHz, float16: 132 KB per setting
                   grid={"room_size": [0.1, 0.3, 0.5, 0.7, 0.9], "damping": [0.1, 0.5, 0.9]}),
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
    # ... and its WaveNets (NAM's standard, lite and feather presets); NAM trains them with lr 4e-3.
    **{f"nam-wavenet-{p}": dict(kind="nam_wavenet", kwargs=dict(preset=p), steps=600, seq=8192, batch=8, lr=4e-3)
       for p in ("standard", "lite", "feather")},
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
                _, state = model(x[:, :warmup], cond, return_state=True)
            y_hat = model(x[:, warmup:], cond, state=state)
        else:
            y_hat = model(x, cond)
        loss = metrics.esr_loss(y[:, warmup + rf :],
                                y_hat[..., warmup + rf :] if not getattr(model, "stateful", False) else y_hat[..., rf:])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history.append(loss.item())
        if step % log_every == 0 or step == steps - 1:
            _tick(progress, (step + 1) / steps, f"step {step + 1}/{steps}  loss {np.mean(history[-log_every:]):.4f}",
                  cancel)
    return history


# ---------------------------------------------------------------- closed-form / structured fits
def least_squares_ir(dry, wet, taps: int, reg: float = 1e-4) -> np.ndarray:
    """The impulse response h (taps,) minimising |wet - h * dry|^2 (+ a little ridge), over the whole signal:
    H = Y X* / (|X|^2 + reg mean|X|^2), truncated to ``taps``."""
    n = len(dry) + taps
    nfft = 1 << (n - 1).bit_length()
    X = np.fft.rfft(np.asarray(dry, np.float64), nfft)
    Y = np.fft.rfft(np.asarray(wet, np.float64), nfft)
    p = np.abs(X) ** 2
    return np.fft.irfft(Y * np.conj(X) / (p + reg * p.mean()), nfft)[:taps]


def fit_fir(model: M.LearnedFIR, dry, wet, reg=1e-4, progress=None, cancel=None):
    """Least-squares impulse response over the whole pair (:func:`least_squares_ir`)."""
    _tick(progress, 0.1, "least-squares impulse response", cancel)
    model.ir.copy_(torch.from_numpy(least_squares_ir(dry, wet, model.ir.shape[0], reg).astype(np.float16)))
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


def fit_chorus(model: M.ModulatedDelay, dry, wet, steps=300, seconds=8.0, probe_seconds=10.0, progress=None,
               cancel=None, seed=0):
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
    return refine_lfo(model, lambda: torch.mean((model(x[None])[0] - y) ** 2) / torch.mean(y**2), steps,
                      progress, cancel, start=0.1, message="refining the LFO")


def refine_lfo(model: M.ModulatedDelay, esr, steps: int, progress=None, cancel=None, start: float = 0.0,
               message: str = "refining the LFO") -> list[float]:
    """Adam on all six chorus parameters against ``esr()`` (the waveform ESR of the current parameters), with
    a learning rate per parameter's scale; progress runs from ``start`` to 1."""
    opt = torch.optim.Adam([{"params": [model.dry, model.wet], "lr": 1e-3},
                            {"params": [model.centre, model.depth], "lr": 0.05},
                            {"params": [model.rate], "lr": 1e-5}, {"params": [model.phase], "lr": 1e-3}])
    history = []
    for step in range(steps):
        loss = esr()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
        if step % 25 == 0:
            _tick(progress, start + (1 - start) * step / steps, f"{message}, ESR {history[-1]:.4f}", cancel)
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


# ---------------------------------------------------------------- knob-conditioned structured fits
def grid_settings(effect: str, axes) -> list[dict]:
    """The knob settings (knob units) at every point of a bank's grid, in the bank's flat order."""
    ranges = fx.EFFECTS[effect].knob_ranges
    knobs = list(ranges)[-len(axes):]
    points = [[]]
    for axis in axes:
        points = [p + [v] for p in points for v in axis]
    return [{k: lo + c * (hi - lo) for k, c, (lo, hi) in zip(knobs, p, (ranges[k] for k in knobs))} for p in points]


def fit_fir_bank(model: M.FIRBank, dry, effect, progress=None, cancel=None, reg=1e-4):
    """A least-squares impulse response at every grid setting, each from the real effect rendered at it."""
    settings = grid_settings(effect, model.axes)
    for i, knobs in enumerate(settings):
        _tick(progress, i / len(settings), f"impulse response {i + 1}/{len(settings)}", cancel)
        wet = fx.render(effect, dry, **knobs)
        model.irs[i] = torch.from_numpy(least_squares_ir(dry, wet, model.irs.shape[1], reg).astype(np.float16))
    _tick(progress, 1.0, "done", cancel)
    return []


def fit_delay_bank(model: M.DelayBank, dry, effect, progress=None, cancel=None):
    """Echo gains by least squares at each feedback setting, the period read from the time knob (default time)."""
    ranges = fx.EFFECTS[effect].knob_ranges
    lo, hi = ranges["delay_seconds"]
    c_time = (fx.EFFECTS[effect].knobs["delay_seconds"] - lo) / (hi - lo)
    period = model.period([c_time])
    cols = np.stack([np.pad(dry, (k * period, 0))[: len(dry)] for k in range(model.taps.shape[1])], 1
                    ).astype(np.float64)
    settings = grid_settings(effect, model.axes)
    for i, knobs in enumerate(settings):
        _tick(progress, i / len(settings), f"echo gains {i + 1}/{len(settings)}", cancel)
        wet = fx.render(effect, dry, **knobs).astype(np.float64)
        taps, *_ = np.linalg.lstsq(cols, wet, rcond=None)
        model.taps.data[i] = torch.tensor(taps, dtype=torch.float32)
    _tick(progress, 1.0, "done", cancel)
    return []


def fit_chorus_knobs(model: M.ModulatedDelay, dry, effect, steps=200, settings=6, seconds=4.0, progress=None,
                     cancel=None, seed=0):
    """The LFO at the default knobs first (:func:`fit_chorus` on a noise probe), read as scales on the knobs;
    then every parameter refined by Adam on the waveform over renders at random rate and depth settings."""
    default = fx.EFFECTS[effect].knobs
    plain = M.ModulatedDelay(model.sr)
    probe = dry[: int(10.0 * model.sr)]  # the recipe's dry audio starts with the noise probe
    fit_chorus(plain, probe, fx.render(effect, probe), steps=100,
               progress=lambda f, m: _tick(progress, 0.4 * f, m, None), cancel=cancel)
    with torch.no_grad():
        model.dry.fill_(float(plain.dry))
        model.wet.fill_(float(plain.wet))
        model.centre.fill_(float(plain.centre))
        model.depth.fill_(float(plain.depth) / default["depth"])
        model.rate.fill_(float(plain.rate) / default["rate_hz"])
        model.phase.fill_(float(plain.phase))
    rng = np.random.default_rng(seed)
    (r0, r1), (d0, d1) = model.rate_range, model.depth_range
    n = int(seconds * model.sr)
    music = dry[int(10.0 * model.sr):]
    batch = []
    for _ in range(settings):
        c = rng.uniform(0, 1, 2)
        s = int(rng.integers(0, len(music) - n))
        x = music[s : s + n]
        batch.append((torch.from_numpy(x), torch.tensor(c, dtype=torch.float32),
                      torch.from_numpy(fx.render(effect, x, rate_hz=r0 + c[0] * (r1 - r0),
                                                 depth=d0 + c[1] * (d1 - d0)))))
    def gains_by_least_squares():  # given the LFO, the dry and wet gains are linear: solve them over the batch
        with torch.no_grad():
            A = torch.cat([torch.stack([x, M.delayed(x, model.delay_track(len(x), 0, c))], 1)
                           for x, c, _ in batch]).double()
            g = torch.linalg.lstsq(A, torch.cat([y for *_, y in batch]).double()[:, None]).solution.squeeze(1)
            model.dry.fill_(float(g[0]))
            model.wet.fill_(float(g[1]))

    gains_by_least_squares()
    def esr():
        return sum(torch.mean((model(x[None], c[None])[0] - y) ** 2) / torch.mean(y**2)
                   for x, c, y in batch) / len(batch)

    history = refine_lfo(model, esr, steps, progress, cancel, start=0.4, message="refining the LFO over knob settings")
    gains_by_least_squares()
    return history


def fit_vocoder(model: M.PhaseVocoderShift, dry, effect, seconds=30.0, smooth_bins=9, progress=None, cancel=None):
    """Per whole semitone: the output spectrum matched to the real shifter's, |G| = sqrt(PSD(effect) / PSD(ours))
    (Welch, one bin per vocoder bin), smoothed along frequency and held to -24..+12 dB.

    A waveform fit would not do: no shifter's phase is predictable from another's, so least squares would only
    shrink the output; matching the spectrum gives the effect's tone at every shift.
    """
    from scipy.ndimage import median_filter
    from scipy.signal import welch

    from core.effects import vocoder
    from core.effects.inference import run_model

    x = dry[: int(seconds * fx.SR)]
    lo, hi = model.semitone_range
    with torch.no_grad():
        model.log_gain.zero_()
    for i, s in enumerate(model.semitones):
        _tick(progress, i / len(model.semitones), f"matching the spectrum at {s:+g} semitones", cancel)
        wet = fx.render(effect, x, semitones=s)
        ours = run_model(model, x, None, np.array([(s - lo) / (hi - lo)], np.float32))
        _, p_wet = welch(wet.astype(np.float64), fx.SR, nperseg=vocoder.N_FFT)
        _, p_ours = welch(ours.astype(np.float64), fx.SR, nperseg=vocoder.N_FFT)
        floor = 1e-10 * max(p_wet.max(), p_ours.max())
        log_g = 0.5 * (np.log(p_wet + floor) - np.log(p_ours + floor))
        log_g = np.clip(median_filter(log_g, smooth_bins, mode="nearest"), np.log(10 ** (-24 / 20)),
                        np.log(10 ** (12 / 20)))
        # The tone only, not the level: scaled so our output's energy is unchanged. Matching the level too raised
        # the ESR on real chords (an uncorrelated output's ESR grows with its energy) for little MR-STFT gain.
        log_g -= 0.5 * np.log(np.sum(p_ours * np.exp(2 * log_g)) / np.sum(p_ours))
        model.log_gain[i] = torch.from_numpy(log_g)
    _tick(progress, 1.0, "done", cancel)
    return []


#: Fits of knob-conditioned structures: each renders the real effect at the settings it needs.
CONDITIONED = {"fir_bank": fit_fir_bank, "delay_bank": fit_delay_bank, "chorus": fit_chorus_knobs,
               "vocoder": fit_vocoder}


def fit(kind, dry, wet, kwargs=None, progress=None, cancel=None, seed=0, cond_sampler=None, effect=None, **settings):
    """Build a model of ``kind`` and train/fit it on the pair; returns (model, loss history).

    With ``effect`` (a bundled one) a knob-conditioned structure is fitted against that effect rendered at the
    settings it needs, and a network gets ``cond_sampler``'s random settings; otherwise the pair is used as is.
    """
    set_seed(seed)
    model = M.build(kind, **(kwargs or {}))
    dry, wet = np.ascontiguousarray(dry, np.float32), np.ascontiguousarray(wet, np.float32)
    if effect is not None and kind in CONDITIONED:
        history = CONDITIONED[kind](model, dry, effect, progress=progress, cancel=cancel)
    elif kind in STRUCTURED:
        history = STRUCTURED[kind](model, dry, wet, progress=progress, cancel=cancel)
    else:
        history = fit_network(model, dry, wet, progress=progress, cancel=cancel, seed=seed, cond_sampler=cond_sampler,
                              **settings)
    model.eval()
    return model, history


# ---------------------------------------------------------------- bundled models
def knob_sampler(effect: str, edge_prob: float = 0.2):
    """Knob sampler for a conditioned network: a random setting of every conditioned knob per excerpt (an end of
    its range with probability ``edge_prob``, so the corners are learned), the target rendered on the fly."""
    ranges = fx.EFFECTS[effect].knob_ranges

    def sample(rng, x):
        c = rng.uniform(0, 1, len(ranges))
        edge = rng.random(len(ranges)) < edge_prob
        c[edge] = rng.integers(0, 2, int(edge.sum()))
        knobs = {k: lo + v * (hi - lo) for v, (k, (lo, hi)) in zip(c, ranges.items())}
        return c.astype(np.float32), fx.render(effect, x, **knobs)

    return sample


def _bank_axes(effect: str, grid: dict) -> list[list[float]]:
    """A recipe's grid (knob units) as the bank's axes (normalised 0-1 along each knob's range)."""
    ranges = fx.EFFECTS[effect].knob_ranges
    return [[round((v - ranges[k][0]) / (ranges[k][1] - ranges[k][0]), 6) for v in values]
            for k, values in grid.items()]


def train_bundled(effect: str, kind: str | None = None, name: str | None = None, seed: int = 0, quick: bool = False,
                  steps: int | None = None):
    from core.effects import data

    t0 = time.time()
    recipe = (dict(RECIPES[effect]) if kind in (None, RECIPES[effect]["kind"])
              else {"kind": kind, **NETWORK_DEFAULTS[kind]})
    kind = recipe.pop("kind")
    kwargs = dict(recipe.pop("kwargs"))
    grid = recipe.pop("grid", None)
    if grid and quick:  # a smoke test: every fourth grid point (the ends kept)
        grid = {k: sorted(set(v[:: max(1, len(v) // 4)]) | {v[-1]}) for k, v in grid.items()}
    if grid:
        kwargs["axes"] = _bank_axes(effect, grid)
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
    conditioned = any(kwargs.get(k) for k in ("n_cond", "drive_range", "tone_terms", "axes", "rate_range",
                                               "semitone_range"))
    cond_sampler = knob_sampler(effect) if conditioned and kind not in CONDITIONED else None
    print(f"[{effect}] {kind} {recipe}; {len(dry) / fx.SR:.0f} s of training audio", flush=True)
    model, history = fit(kind, dry, wet, kwargs, seed=seed, cond_sampler=cond_sampler,
                         effect=effect if conditioned else None, progress=progress_bar(effect), **recipe)
    train_s = time.time() - t0
    name = name or effect
    directory = OUT_DIR / name
    config = {"kind": kind, "kwargs": kwargs, "effect": effect, "knobs": fx.EFFECTS[effect].knobs,
              "knob_ranges": fx.EFFECTS[effect].knob_ranges if conditioned else {}, "sr": fx.SR}
    result = metrics.held_out_scores(model.eval(), config)  # in memory: the weights are saved once, below
    card = ModelCard(
        name=f"effects/{name}",
        task=f"emulate the pedalboard effect '{effect}' ({fx.EFFECTS[effect].label}) at {fx.SR} Hz",
        architecture=f"{kind}: {type(model).__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())}), "
                     f"{M.n_params(model)} parameters",
        training_data=f"{len(dry) / fx.SR:.0f} s: 3 generator segments (chirps/sines/squares/saws/noise) + 6 rendered "
                      "instrument pieces (guitar/bass/keys, FluidR3_GM)"
                      + (" + a 10 s white-noise probe" if kind == "chorus" else "")
                      + "; test = 3 held-out pieces (seeds 0, 5, 10), 32 s with a 2 s tail",
        command=f"python -m core.effects.train --effect {effect}"
        + (f" --model {kind} --name {name}" if name != effect else "")
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
        return (f"Removed a latency of {self.latency} samples ({1000 * self.latency / self.sr:.1f} ms)."
                if self.latency else None)


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
        raise AudioError(f"The dry file is {dry_sr} Hz and the wet file {wet_sr} Hz: "
                         "export both at the same sample rate.")
    if dry_ch and wet_ch and dry_ch != wet_ch:
        name = {1: "mono", 2: "stereo"}
        raise AudioError(f"The dry file is {name.get(dry_ch, f'{dry_ch} channels')} and the wet file "
                         f"{name.get(wet_ch, f'{wet_ch} channels')}: "
                         "export both the same way (mono for a pedal or amp).")
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


#: Model kinds that export to a .nam file.
NAM_KINDS = ("nam_lstm", "nam_wavenet")

#: Bounds on a capture's training steps (the tab's slider; the API is held to them too).
MIN_CAPTURE_STEPS, MAX_CAPTURE_STEPS = 20, 3000


def capture(dry_source, wet_source, model: str = "lstm", steps: int | None = None, progress=None,
            cancel=None) -> CaptureResult:
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
                     architecture=f"{res.config.get('architecture', res.kind)} ({M.n_params(res.model)} parameters)",
                     training_data="user dry/wet pair, first 80%",
                     command="capture mode", seed=0, metrics={k: float(v) for k, v in res.metrics.items()},
                     config=res.config)
    save_checkpoint(res.model, directory, card=card, extra=res.config)
    if res.kind in NAM_KINDS:  # and the file the Neural Amp Modeler plugin loads
        nam.export_nam(res.model, Path(directory) / "model.nam", res.sr,
                       metadata={"name": Path(directory).name,
                                 "validation_esr": float(res.metrics["ESR model vs effect"])})
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
