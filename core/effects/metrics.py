"""ESR and multi-resolution STFT distance, and the latency finder used by capture mode."""
from __future__ import annotations

import numpy as np
import torch

from core.effects import fx
from core.training import check_cancel


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
    total = 0.0
    with torch.no_grad():
        # auraloss's own forward, one resolution at a time: ~1 s each on a minute of audio, so a cancelled
        # request stops between them instead of after all three
        for resolution in _mrstft.stft_losses:
            check_cancel()
            total += float(resolution(e, t))
    return total / len(_mrstft.stft_losses)


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
    check_cancel()
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


def knob_grid(config: dict) -> list[dict]:
    """The knob settings a conditioned model is judged at: its default, every corner of its knob ranges, each
    knob's midpoint with the others at their defaults, and two settings off any grid (``[{}]`` for a model
    without knobs)."""
    ranges = config.get("knob_ranges") or {}
    if not ranges:
        return [{}]
    default = {k: float(config["knobs"][k]) for k in ranges}
    corners = [{}]
    for k, (lo, hi) in ranges.items():
        corners = [{**c, k: float(v)} for c in corners for v in (lo, hi)]
    # each knob's midpoint with the others at their defaults (a one-knob model: its quarter points too)
    steps = (0.25, 0.5, 0.75) if len(ranges) == 1 else (0.5,)
    mids = [{**default, k: lo + f * (hi - lo)} for k, (lo, hi) in ranges.items() for f in steps]
    # and two settings inside the ranges where no bank grid point sits (every knob at 0.37, then at 0.63)
    inside = [{k: lo + f * (hi - lo) for k, (lo, hi) in ranges.items()} for f in (0.37, 0.63)]
    out = []
    for knobs in [default, *corners, *mids, *inside]:
        if knobs not in out:
            out.append(knobs)
    return out


def grid_scores(model, config: dict, dry, settings=None, render=None) -> list[dict]:
    """:func:`scores` at every knob setting of :func:`knob_grid` (or ``settings``), the effect rendered at each."""
    from core.effects.inference import cond_vector, run_model

    render = render or (lambda x, knobs: fx.render(config["effect"], x, **knobs))
    rows = []
    for knobs in settings or knob_grid(config):
        wet = render(dry, knobs)
        out = run_model(model, dry, config, cond_vector(config, knobs))
        rows.append({"knobs": {k: round(v, 4) for k, v in knobs.items()}, **scores(dry, wet, out)})
    return rows


def closer(row: dict) -> bool:
    """Whether a score row's model is closer to the effect than the clean input by ESR and MR-STFT (a setting at
    which the effect does nothing, pitch shift 0, counts when the model does nothing too: ESR < 1e-6)."""
    def better(m, c, exact):
        return m < c or m < exact
    return better(row["esr_model"], row["esr_clean"], 1e-6) and better(row["mrstft_model"], row["mrstft_clean"], 1e-3)


def held_out_scores(model, config: dict) -> dict:
    """ESR and MR-STFT of ``model`` against its effect on the held-out pieces, at the default knobs and (for a
    conditioned model) over the whole knob grid, corners included: what every bundled card reports. The model
    is used as it is, in memory."""
    from core.effects import data

    dry, _ = data.test_pair(config["effect"])
    grid = grid_scores(model, config, dry)
    result = {k: v for k, v in grid[0].items() if k != "knobs"}
    result["closer_than_clean"] = closer(result)
    if config.get("knob_ranges"):
        result["knob_grid"] = grid
        result["grid_worst_esr_model"] = max(r["esr_model"] for r in grid)
        result["grid_closer_than_clean"] = sum(map(closer, grid))
        result["grid_settings"] = len(grid)
    return result
