"""Held-out evaluation: ESR and MR-STFT of model-vs-effect and clean-vs-effect, over each model's knob grid.

    python -m core.effects.evaluate                  # re-measure every bundled model (held-out pieces) -> JSON
    python -m core.effects.evaluate --update-cards   # ... and write the figures (knob grid included) into the cards
    python -m core.effects.evaluate --real --write   # on real recordings (core.effects.real) -> docs/figures/effects_real.json
    python -m core.effects.evaluate --markdown       # the docs tables, from the model cards
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core.effects import metrics

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "effects_real.json"
REAL_COMMAND = "python -m core.effects.evaluate --real --write"


def evaluate_model(directory) -> dict:
    """:func:`core.effects.metrics.held_out_scores` of the model saved in ``directory``."""
    from core.effects.inference import EffectModel

    m = EffectModel.from_pretrained(directory)
    return metrics.held_out_scores(m.net, m.config)


def _models():
    from core.effects import api

    return [d for d in sorted(api.MODELS_ROOT.iterdir()) if (d / "model.safetensors").exists() and not d.name.startswith("capture")]


def evaluate_real(directory, sets: dict) -> dict:
    """One model on every real-recording set: the scores at each knob-grid setting (default first)."""
    from core.effects.inference import EffectModel

    m = EffectModel.from_pretrained(directory)
    out = {}
    for name, dry in sets.items():
        out[name] = metrics.grid_scores(m.net, m.config, dry)
    return out


def main():
    import torch

    torch.set_num_threads(1)  # the bench's setting; small sequential models are slower with more threads here

    if "--markdown" in sys.argv:
        print(markdown_table())
        print()
        print(knob_grid_table())
        return
    if "--real" in sys.argv:
        from core.effects import real

        t0 = time.time()
        sets = real.material()
        rows = {}
        for d in _models():
            rows[d.name] = evaluate_real(d, sets)
            print(d.name, {k: v[0] for k, v in rows[d.name].items()}, file=sys.stderr, flush=True)
        result = {"command": REAL_COMMAND, "seconds": {k: round(len(v) / 44_100, 1) for k, v in sets.items()},
                  "wall_s": round(time.time() - t0, 1), "models": rows}
        if "--write" in sys.argv:
            FIGURE.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result)[:2000])
        return

    rows = {}
    for d in _models():
        rows[d.name] = evaluate_model(d)
        if "--update-cards" in sys.argv:  # write the fresh figures into the card
            from core.effects.models import NOTES
            from core.training import read_card, update_card

            card = read_card(d)
            # per-knob figures of an older card format are replaced by the knob grid
            card["metrics"] = {k: v for k, v in card.get("metrics", {}).items() if "@" not in k}
            (d / "card.json").write_text(json.dumps(card, indent=2) + "\n")
            update_card(d, rows[d.name], "python -m core.effects.evaluate --update-cards",
                        notes=NOTES.get(card["config"]["kind"], card.get("notes", "")))
        print(d.name, {k: v for k, v in rows[d.name].items() if k != "knob_grid"}, file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2))


def _cards(root=None):
    from core.effects import api

    root = Path(root or api.MODELS_ROOT)
    for d in sorted(root.iterdir()):
        card_path = d / "card.json"
        if card_path.exists() and not d.name.startswith("capture"):
            yield d.name, json.loads(card_path.read_text())


def markdown_table(root=None) -> str:
    """The results table of the docs, from the bundled cards (at each model's default knobs)."""
    lines = ["| model | effect | structure | params | ESR model | ESR clean | MR-STFT model | MR-STFT clean | closer than clean |",
             "|---|---|---|---:|---:|---:|---:|---:|:---:|"]
    for name, card in _cards(root):
        m, c = card["metrics"], card["config"]
        lines.append(f"| {name} | {c['effect']} | {c['kind']} | {card['architecture'].rsplit(', ', 1)[-1].split()[0]} | "
                     f"{m['esr_model']:.4g} | {m['esr_clean']:.4g} | {m['mrstft_model']:.4g} | {m['mrstft_clean']:.4g} | "
                     f"{'yes' if m['closer_than_clean'] else 'no'} |")
    return "\n".join(lines)


def _knobs(k: dict) -> str:
    return ", ".join(f"{n}={v:g}" for n, v in k.items())


def knob_grid_table(root=None) -> str:
    """Per conditioned model: its held-out ESR over the knob grid (default, every corner, each midpoint)."""
    lines = ["| model | knobs (range) | settings | ESR at default | median ESR | worst ESR (at) | clean ESR there | "
             "closer than clean (ESR and MR-STFT) |", "|---|---|---:|---:|---:|---|---:|:---:|"]
    for name, card in _cards(root):
        m, c = card["metrics"], card["config"]
        grid = m.get("knob_grid")
        if not grid:
            continue
        import numpy as np

        worst = max(grid, key=lambda r: r["esr_model"])
        ranges = ", ".join(f"{k} {lo:g}–{hi:g}" for k, (lo, hi) in c["knob_ranges"].items())
        lines.append(f"| {name} | {ranges} | {len(grid)} | {grid[0]['esr_model']:.3g} | "
                     f"{float(np.median([r['esr_model'] for r in grid])):.3g} | {worst['esr_model']:.3g} ({_knobs(worst['knobs'])}) | "
                     f"{worst['esr_clean']:.3g} | {m['grid_closer_than_clean']}/{len(grid)} |")
    return "\n".join(lines + ["", "Held-out generated pieces (3 pieces, 32 s with a 2 s tail), every setting rendered by "
                               "the real effect; `python -m core.effects.evaluate --update-cards` writes the grid into "
                               "each card (`knob_grid`)."])


def real_table(d: dict) -> str:
    """Real recordings: per model and set, at the default knobs, and how many grid settings beat clean."""
    sets = list(d["seconds"])
    head = "| model | " + " | ".join(f"{s} ({d['seconds'][s]:g} s)" for s in sets) + " | grid settings closer than clean |"
    lines = [head, "|---|" + "---|" * len(sets) + ":---:|"]
    for name, per_set in d["models"].items():
        cells, wins, total = [], 0, 0
        for s in sets:
            rows = per_set[s]
            r = rows[0]
            ok = metrics.closer(r)
            cells.append(f"{'' if ok else '**✗** '}ESR {r['esr_model']:.3g} ({r['esr_clean']:.3g}); "
                         f"MR-STFT {r['mrstft_model']:.3g} ({r['mrstft_clean']:.3g})")
            wins += sum(map(metrics.closer, rows))
            total += len(rows)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {wins}/{total} |")
    return "\n".join(lines + ["", f"`{d['command']}` ({d['wall_s']:g} s): model (clean) against the real effect, at the "
                               "default knobs; **✗** where the model is not closer than clean by both measures. The last "
                               "column counts every knob-grid setting on every set."])


if __name__ == "__main__":
    main()
