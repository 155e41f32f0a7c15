"""Evaluate a trained genre model on extra folder-per-genre test sets and add the results to its card.

    python -m core.genre.evaluate --model cnn --data heldout_font=.cache/genre/heldout_font

Every track of a ``--data`` set is a test track (3 s excerpts, no overlap). Excerpt accuracy,
whole-track accuracy (mean and max aggregation), per-class precision/recall/F1 and the
confusion matrix go into ``report.json``; the summary goes into ``card.json``'s metrics.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from core.genre.metrics import evaluate_sets, summary

log = logging.getLogger("core.genre.evaluate")


def results_table(folders) -> str:
    """Markdown table of the metrics in each folder's card.json (the docs' results table)."""
    rows = ["| Model | Input | Params | Epochs | Test excerpts | Test tracks (mean / max) "
            "| Held-out SoundFont tracks (excerpts) | Tempo-equalised tracks (excerpts) |",
            "|---|---|---|---|---|---|---|---|"]
    for folder in folders:
        card = json.loads((Path(folder) / "card.json").read_text())
        m, c = card["metrics"], card["config"]

        def cell(name):
            v = m.get(name)
            return f"{v['track_accuracy_mean']:.1%} ({v['excerpt_accuracy']:.1%})" if v else "–"

        t = m["test"]
        rows.append(f"| {card['name']} | {c['input']} | {c['params']:,} | {c['epochs_run']} | "
                    f"{t['excerpt_accuracy']:.1%} | {t['track_accuracy_mean']:.1%} / {t['track_accuracy_max']:.1%} | "
                    f"{cell('heldout_font')} | "
                    f"{cell('equal_tempo') if 'equal_tempo' in m else cell('equal_tempo_test')} |")
    return "\n".join(rows)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="bundled model name or a trained model's folder")
    p.add_argument("--data", nargs="+", metavar="NAME=DIR")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--table", nargs="*", metavar="FOLDER", help="print the results table of these model folders "
                   "(default: every bundled model) and exit")
    args = p.parse_args(argv)
    if args.table is not None:
        from core.genre.api import BUNDLED_DIR, bundled_models

        print(results_table(args.table or [BUNDLED_DIR / n for n in bundled_models()]))
        return {}
    if not args.model or not args.data:
        p.error("--model and --data are required (or --table)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from core.genre.api import BUNDLED_DIR, load

    torch.set_num_threads(args.threads)
    model = load(args.model)
    folder = BUNDLED_DIR / args.model if (BUNDLED_DIR / args.model).is_dir() else Path(args.model)
    metrics = evaluate_sets(model.net, model.labels, model.kind, args.data)
    log.info("%s: %s", args.model, json.dumps(summary(metrics)))
    if (folder / "card.json").exists():
        from core.training import update_card

        update_card(folder, summary(metrics), "python -m core.genre.evaluate " + " ".join(argv or sys.argv[1:]),
                    data=", ".join(args.data))
    report = folder / "report.json"
    if report.exists():  # the full scores (per class, confusion) beside the card's summary
        doc = json.loads(report.read_text())
        doc["metrics"].update(metrics)
        report.write_text(json.dumps(doc, indent=1))
    return metrics


if __name__ == "__main__":
    try:
        main()
    except ValueError as err:
        sys.exit(f"error: {err}")
