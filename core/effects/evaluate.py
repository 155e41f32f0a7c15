"""Held-out evaluation: ESR and MR-STFT of model-vs-effect and clean-vs-effect.

    python -m core.effects.evaluate              # re-measure every bundled model -> JSON
    python -m core.effects.evaluate --update-cards   # ... and write the figures into the cards
    python -m core.effects.evaluate --markdown   # the docs table, from the model cards
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core.effects import metrics


def evaluate_model(directory) -> dict:
    """:func:`core.effects.metrics.held_out_scores` of the model saved in ``directory``."""
    from core.effects.inference import EffectModel

    m = EffectModel.from_pretrained(directory)
    return metrics.held_out_scores(m.net, m.config)


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
                from core.effects.models import NOTES
                from core.training import read_card, update_card

                card = read_card(d)
                update_card(d, rows[d.name], "python -m core.effects.evaluate --update-cards",
                            notes=NOTES.get(card["config"]["kind"], card.get("notes", "")))
            print(d.name, rows[d.name], file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2))


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
