"""ESR and multi-resolution STFT distance, and the latency finder used by capture mode."""
from __future__ import annotations

import numpy as np
import torch

from core.effects import fx


def esr(target: np.ndarray, estimate: np.ndarray) -> float:
    """Error-to-signal ratio sum((y - y_hat)^2) / sum(y^2) on raw samples (no pre-emphasis).

    The reported figure, on whole signals in float64 numpy; training uses auraloss's ESRLoss (:func:`esr_loss`).
    """
    target, estimate = np.asarray(target, np.float64), np.asarray(estimate, np.float64)
    return float(np.sum((target - estimate) ** 2) / max(np.sum(target**2), 1e-12))


_mrstft = None


def mr_stft(target: np.ndarray, estimate: np.ndarray) -> float:
    """auraloss MultiResolutionSTFTLoss (FFT sizes 1024/2048/512, spectral convergence + log magnitude)."""
    global _mrstft
    import auraloss

    if _mrstft is None:
        _mrstft = auraloss.freq.MultiResolutionSTFTLoss()
    t = torch.as_tensor(np.asarray(target, np.float32))[None, None]
    e = torch.as_tensor(np.asarray(estimate, np.float32))[None, None]
    with torch.no_grad():
        return float(_mrstft(e, t))


def pre_emphasis(x: torch.Tensor, coeff: float = 0.85) -> torch.Tensor:
    """y[n] = x[n] - coeff x[n-1]: the exact first-order filter (auraloss's FIRFilter pads a 101-tap kernel)."""
    return x[..., 1:] - coeff * x[..., :-1]


_esr_loss = _dc_loss = None


def esr_loss(y: torch.Tensor, y_hat: torch.Tensor, coeff: float = 0.85) -> torch.Tensor:
    """Training loss (Wright et al.): auraloss's ESR on pre-emphasised signals plus its DC loss."""
    global _esr_loss, _dc_loss
    import auraloss

    if _esr_loss is None:
        _esr_loss, _dc_loss = auraloss.time.ESRLoss(), auraloss.time.DCLoss()
    return _esr_loss(pre_emphasis(y_hat, coeff), pre_emphasis(y, coeff)) + _dc_loss(y_hat, y)


def find_latency(dry: np.ndarray, wet: np.ndarray, sr: int, max_ms: float = 500.0) -> int:
    """Samples by which ``wet`` lags ``dry`` (negative: leads), from the cross-correlation peak within +-max_ms.

    Differencing first whitens the music a little so the peak is sharp.
    """
    from scipy import signal

    a = np.diff(np.asarray(dry, np.float64))
    b = np.diff(np.asarray(wet, np.float64))
    xc = signal.correlate(b, a, mode="full", method="fft")
    lags = signal.correlation_lags(len(b), len(a), mode="full")
    m = min(int(max_ms * sr / 1000), len(a) - 1)
    keep = np.abs(lags) <= m
    return int(lags[keep][np.argmax(np.abs(xc[keep]))])


def align(dry: np.ndarray, wet: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove a constant latency: shift ``wet`` earlier by ``lag`` samples and trim both to a common length."""
    if lag > 0:
        wet = wet[lag:]
    elif lag < 0:
        dry = dry[-lag:]
    n = min(len(dry), len(wet))
    return dry[:n], wet[:n]


def metrics_for(dry, wet, out) -> dict:
    """What the tab shows for one input: the model and the clean input, each against the real effect."""
    return {
        "ESR model vs effect": esr(wet, out),
        "ESR clean vs effect": esr(wet, dry),
        "MR-STFT model vs effect": mr_stft(wet, out),
        "MR-STFT clean vs effect": mr_stft(wet, dry),
    }


# ---------------------------------------------------------------- held-out scores (the cards' figures)
def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def scores(dry, wet, out) -> dict:
    return {
        "esr_model": _sig(esr(wet, out)),
        "esr_clean": _sig(esr(wet, dry)),
        "mrstft_model": _sig(mr_stft(wet, out)),
        "mrstft_clean": _sig(mr_stft(wet, dry)),
    }


def held_out_scores(model, config: dict) -> dict:
    """ESR and MR-STFT of ``model`` against its effect on the held-out pieces (and at the knob's ends when
    it is conditioned): what every bundled card reports. The model is used as it is, in memory."""
    from core.effects import data
    from core.effects.inference import cond_vector, default_cond, run_model

    effect = config["effect"]
    dry, wet = data.test_pair(effect)
    out = run_model(model, dry, config, default_cond(config))
    result = scores(dry, wet, out)
    if config.get("knob_ranges"):  # conditioned model: also at the ends of the knob range
        for knob, (lo, hi) in config["knob_ranges"].items():
            for v in (lo, hi):
                w = fx.render(effect, dry, **{knob: v})
                o = run_model(model, dry, config, cond_vector(config, {knob: v}))
                result[f"esr_model@{knob}={v:g}"] = _sig(esr(w, o))
    result["closer_than_clean"] = bool(result["esr_model"] < result["esr_clean"] and result["mrstft_model"] < result["mrstft_clean"])
    return result
