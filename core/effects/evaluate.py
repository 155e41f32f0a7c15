"""Held-out evaluation: ESR and MR-STFT of model-vs-effect and clean-vs-effect.

    python -m core.effects.evaluate              # re-measure every bundled model -> JSON
    python -m core.effects.evaluate --update-cards   # ... and write the figures into the cards
    python -m core.effects.evaluate --markdown   # the docs table, from the model cards
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from core.effects import fx, metrics

_TEST = {}


def test_pair(effect: str, knobs: dict | None = None):
    """Held-out instrument pieces (dry) and the real effect on them, rendered with a 2 s tail."""
    from core.effects import data

    if "dry" not in _TEST:
        _TEST["dry"] = np.pad(data.dry_set("test"), (0, 2 * fx.SR))
    dry = _TEST["dry"]
    return dry, fx.render(effect, dry, **(knobs or {}))


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def scores(dry, wet, out) -> dict:
    return {
        "esr_model": _sig(metrics.esr(wet, out)),
        "esr_clean": _sig(metrics.esr(wet, dry)),
        "mrstft_model": _sig(metrics.mr_stft(wet, out)),
        "mrstft_clean": _sig(metrics.mr_stft(wet, dry)),
    }


def evaluate_model(directory) -> dict:
    from core.effects import api

    model, config = api.load_model(directory)
    effect = config["effect"]
    dry, wet = test_pair(effect)
    out = api.run_model(model, dry, config, api.default_cond(config))
    result = scores(dry, wet, out)
    if config.get("knob_ranges"):  # conditioned model: also at the ends of the knob range
        for knob, (lo, hi) in config["knob_ranges"].items():
            for v in (lo, hi):
                w = fx.render(effect, dry, **{knob: v})
                o = api.run_model(model, dry, config, api.cond_vector(config, {knob: v}))
                result[f"esr_model@{knob}={v:g}"] = _sig(metrics.esr(w, o))
    result["closer_than_clean"] = bool(result["esr_model"] < result["esr_clean"] and result["mrstft_model"] < result["mrstft_clean"])
    return result


def main():
    import torch

    from core.effects import api

    torch.set_num_threads(1)  # the bench's setting; small sequential models are slower with more threads here

    if "--markdown" in sys.argv:
        print(markdown_table())
        return

    rows = {}
    for d in sorted(api.MODELS_ROOT.iterdir()):
        if (d / "model.safetensors").exists() and not d.name.startswith("capture"):
            rows[d.name] = evaluate_model(d)
            if "--update-cards" in sys.argv:  # write the fresh figures into the card
                from core.effects.train import NOTES
                from core.training import read_card, update_card

                card = read_card(d)
                update_card(d, rows[d.name], "python -m core.effects.evaluate --update-cards",
                            notes=NOTES.get(card["config"]["kind"], card.get("notes", "")))
            print(d.name, rows[d.name], file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2))



# ---------------------------------------------------------------- the paper's figures
def mel_comparison(clean, effect, model, sr: int, titles=("Clean", "Effect", "Model")):
    """Log-mel spectrograms of clean, effect and model side by side (shared colour scale)."""
    from matplotlib.figure import Figure

    from core import features

    mels = [features.log_mel(np.asarray(y, np.float32), sr) for y in (clean, effect, model)]
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


def markdown_table(root=None) -> str:
    """The results table of the docs, from the bundled cards (what `main` measured when each model was trained)."""
    from core.effects import api

    root = Path(root or api.MODELS_ROOT)
    lines = ["| model | effect | structure | params | ESR model | ESR clean | MR-STFT model | MR-STFT clean | closer than clean |",
             "|---|---|---|---:|---:|---:|---:|---:|:---:|"]
    for d in sorted(root.iterdir()):
        card_path = d / "card.json"
        if not card_path.exists() or d.name.startswith("capture"):
            continue
        card = json.loads(card_path.read_text())
        m, c = card["metrics"], card["config"]
        lines.append(f"| {d.name} | {c['effect']} | {c['kind']} | {card['architecture'].rsplit(', ', 1)[-1].split()[0]} | "
                     f"{m['esr_model']:.4g} | {m['esr_clean']:.4g} | {m['mrstft_model']:.4g} | {m['mrstft_clean']:.4g} | "
                     f"{'yes' if m['closer_than_clean'] else 'no'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
