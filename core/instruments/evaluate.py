"""The paper's Tables 1–3 for the bundled models: per-class report, confusion matrices, speed.

    python -m core.instruments.evaluate                      # tables from the model cards (what train.py measured)
    python -m core.instruments.evaluate --data .cache/instruments --holdout MuseScore_General
                                                             # re-measure on the held-out SoundFont's clips
    python -m core.instruments.evaluate --markdown --figures docs/figures   # README tables + confusion PNGs

The card's figures are centre 2 s crops of each 3 s test clip, as the models were validated.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from core.instruments import api


def table_rows(metrics: dict) -> list[list]:
    """Per-class precision/recall/F1/support, then accuracy and the macro/weighted averages (Table 1/2's rows)."""
    rep = metrics["report"]
    rows = [[name, v["precision"], v["recall"], v["f1-score"], int(v["support"])]
            for name, v in rep.items() if isinstance(v, dict)]
    total = int(rep["macro avg"]["support"])
    return rows[:-2] + [["accuracy", None, None, metrics["accuracy"], total]] + rows[-2:]


def markdown_table(metrics: dict, title: str) -> str:
    lines = [f"**{title}**", "", "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for name, p, r, f, n in table_rows(metrics):
        cell = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(f"| {name} | {cell(p)} | {cell(r)} | {cell(f)} | {n} |")
    return "\n".join(lines)


def confusion_markdown(cm: np.ndarray, labels: list[str], percent: bool = False) -> str:
    short = [lab.split()[-1][:6] if " " in lab else lab[:6] for lab in labels]
    m = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) * 100 if percent else cm
    lines = ["| true \\ predicted | " + " | ".join(short) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, row in zip(labels, m):
        lines.append(f"| {name} | " + " | ".join(f"{v:.1f}" if percent else str(int(v)) for v in row) + " |")
    return "\n".join(lines)


def remeasure(name: str, data: str, holdout: str) -> dict:
    """Predict every clip of the held-out collection again with the bundled model."""
    from core.instruments.data import features, scan
    from core.instruments.train import CROP_FRAMES, centre_crop, report

    clf = api.load(name)
    items = [i for i in scan(data) if i.collection == holdout]
    if not items:
        raise ValueError(f"No clips of {holdout!r} under {data}.")
    X = centre_crop(__import__("torch").from_numpy(features(items)).float(), CROP_FRAMES).numpy()
    probs = clf.probabilities(X)
    y = np.array([clf.labels.index(i.label) for i in items])
    return report(y, probs, clf.labels)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(api.BUNDLED))
    parser.add_argument("--data", help="re-measure on this corpus instead of reading the cards")
    parser.add_argument("--holdout", default="MuseScore_General")
    parser.add_argument("--markdown", action="store_true", help="print README-ready tables")
    parser.add_argument("--figures", help="folder for confusion-matrix PNGs")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        __import__("torch").set_num_threads(args.threads)
    summary = {}
    for name in args.models:
        try:
            clf = api.load(name)
        except ValueError as err:
            sys.exit(f"error: {err}")
        if args.data:
            key, m = f"remeasured_{args.holdout}", remeasure(name, args.data, args.holdout)
        else:
            metrics = clf.card.get("metrics", {})
            key = next(k for k in metrics if k.startswith("test_"))
            m = metrics[key]
        summary[name] = {"set": key, "accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)}
        if args.markdown:
            print(markdown_table(m, f"{name.upper()} — {key.replace('_', ' ')}"))
            print()
            print(confusion_markdown(np.array(m["confusion"]), clf.labels))
            print()
            print(confusion_markdown(np.array(m["confusion"]), clf.labels, percent=True))
            print()
        if args.figures:
            from core import plots

            Path(args.figures).mkdir(parents=True, exist_ok=True)
            cm = np.array(m["confusion"])
            plots.save(plots.confusion(cm, clf.labels, title=f"{name.upper()} (counts)"),
                       Path(args.figures) / f"instruments-{name}-confusion.png")
            plots.save(plots.confusion(cm, clf.labels, normalize=True, title=f"{name.upper()} (% of true class)"),
                       Path(args.figures) / f"instruments-{name}-confusion-pct.png")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
