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
from pathlib import Path

from core.genre import data as gdata

log = logging.getLogger("core.genre.evaluate")
SUMMARY_KEYS = ("excerpt_accuracy", "track_accuracy_mean", "track_accuracy_max", "tracks")


def parse_spec(spec: str) -> tuple[str, str]:
    name, _, path = spec.partition("=")
    return (name, path) if path else (Path(spec).name, spec)


def evaluate_sets(net, labels: list[str], kind: str, specs: list[str]) -> dict:
    """{set name: scores} for each NAME=DIR (genre folders must be among ``labels``)."""
    from core.genre.train import predict_logits, scores

    out = {}
    for spec in specs:
        set_name, path = parse_spec(spec)
        ev_labels, tracks = gdata.scan(path)
        missing = set(ev_labels) - set(labels)
        if missing:
            raise ValueError(f"{path} has genres the model was not trained on: {', '.join(sorted(missing))}.")
        for t in tracks:
            t.label = labels.index(ev_labels[t.label])
        X, y, tid = gdata.build_set(tracks, kind, 3.0)
        out[set_name] = scores(predict_logits(net, X), y, tid, labels)
    return out


def summary(metrics: dict) -> dict:
    return {k: {m: v[m] for m in SUMMARY_KEYS} for k, v in metrics.items()}


def results_table(folders) -> str:
    """Markdown table of the metrics in each folder's card.json (the docs' results table)."""
    rows = ["| Model | Input | Params | Epochs | Test excerpts | Test tracks (mean / max) | Held-out SoundFont tracks (excerpts) | Tempo-equalised tracks (excerpts) |",
            "|---|---|---|---|---|---|---|---|"]
    for folder in folders:
        card = json.loads((Path(folder) / "card.json").read_text())
        m, c = card["metrics"], card["config"]

        def cell(name):
            v = m.get(name)
            return f"{v['track_accuracy_mean']:.1%} ({v['excerpt_accuracy']:.1%})" if v else "–"

        t = m["test"]
        rows.append(f"| {card['name']} | {c['input']} | {c['params']:,} | {c['epochs_run']} | {t['excerpt_accuracy']:.1%} | "
                    f"{t['track_accuracy_mean']:.1%} / {t['track_accuracy_max']:.1%} | {cell('heldout_font')} | "
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
    for name, fname in (("card", "card.json"), ("report", "report.json")):
        path = folder / fname
        if path.exists():
            doc = json.loads(path.read_text())
            doc["metrics"].update(summary(metrics) if name == "card" else metrics)
            path.write_text(json.dumps(doc, indent=2 if name == "card" else 1))
    return metrics


if __name__ == "__main__":
    import sys

    try:
        main()
    except ValueError as err:
        sys.exit(f"error: {err}")
