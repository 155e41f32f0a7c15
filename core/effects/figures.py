"""The effect tab's figures: log-mel spectrograms side by side, and the paper's waveform overlay."""
from __future__ import annotations

import numpy as np


def mel_comparison(mels, sr: int, titles=("Clean", "Effect", "Model")):
    """Log-mel spectrograms (dB, each (n_mels, frames), e.g. ``EffectResult.log_mels()``) side by side, one
    colour scale."""
    from matplotlib.figure import Figure

    from core import features

    vmax = max(float(m.max()) for m in mels)
    fig = Figure(figsize=(12, 3.2), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, m, title in zip(axes, mels, titles):
        im = ax.imshow(m, origin="lower", aspect="auto", vmin=vmax - 80, vmax=vmax, cmap="magma",
                       extent=[0, m.shape[1] * features.HOP_LENGTH / sr, 0, m.shape[0]])
        ax.set_title(title)
        ax.set_xlabel("Time (s)")
    axes[0].set_ylabel("Mel band")
    fig.colorbar(im, ax=axes, label="dB")
    return fig


def busiest_window(y: np.ndarray, n: int = 300) -> int:
    """Start of the n-sample window with the most energy (where the overlay says most)."""
    y = np.asarray(y, np.float64)
    if len(y) <= n:
        return 0
    e = np.convolve(y**2, np.ones(n), "valid")
    return int(np.argmax(e))


def waveform_overlay(clean, effect, model, sr: int, n: int = 300, start: int | None = None):
    """The paper's "impulse response" plot: the three waveforms over ~300 samples."""
    from matplotlib.figure import Figure

    start = busiest_window(effect, n) if start is None else start
    t = (start + np.arange(n)) / sr * 1000
    fig = Figure(figsize=(10, 3), layout="constrained")
    ax = fig.add_subplot()
    for y, label, style in ((clean, "Clean", dict(color="0.6", lw=1)), (effect, "Effect", dict(color="C0", lw=2)),
                            (model, "Model", dict(color="C3", lw=1.2, ls="--"))):
        seg = np.asarray(y[start : start + n])
        ax.plot(t[: len(seg)], seg, label=label, **style)
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Amplitude")
    ax.set_title(f"Waveforms over {n} samples")
    ax.legend(loc="upper right")
    return fig
