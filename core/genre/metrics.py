"""Genre scores: excerpt and whole-track accuracy, per-class P/R/F1 and the confusion matrix, on any set.

Train and evaluate both import this module (never each other): the numbers a card holds come from here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.genre import data as gdata

SUMMARY_KEYS = ("excerpt_accuracy", "track_accuracy_mean", "track_accuracy_max", "tracks")


@torch.no_grad()
def predict_logits(model, X: np.ndarray, batch: int = 256) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    out = [model(torch.from_numpy(X[i:i + batch]).float().to(device)).cpu() for i in range(0, len(X), batch)]
    return torch.cat(out).numpy() if out else np.zeros((0,))


def scores(logits: np.ndarray, y: np.ndarray, tid: np.ndarray, labels: list[str]) -> dict:
    """Excerpt and whole-track accuracy (mean and max aggregation), per-class P/R/F1, confusion."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probs = torch.softmax(torch.from_numpy(logits), 1).numpy()
    pred = probs.argmax(1)
    k = list(range(len(labels)))
    tracks = np.unique(tid)
    t_true = np.array([y[tid == t][0] for t in tracks])
    t_mean = np.array([probs[tid == t].mean(0).argmax() for t in tracks])
    t_max = np.array([probs[tid == t].max(0).argmax() for t in tracks])
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=k, zero_division=0)
    return {
        "excerpt_accuracy": round(float((pred == y).mean()), 4),
        "track_accuracy_mean": round(float((t_mean == t_true).mean()), 4),
        "track_accuracy_max": round(float((t_max == t_true).mean()), 4),
        "excerpts": int(len(y)), "tracks": int(len(tracks)),
        "per_class": {labels[i]: {"precision": round(float(p[i]), 3), "recall": round(float(r[i]), 3),
                                  "f1": round(float(f[i]), 3), "support": int(s[i])} for i in k},
        "confusion": confusion_matrix(y, pred, labels=k).tolist(),
    }


def parse_spec(spec: str) -> tuple[str, str]:
    name, _, path = spec.partition("=")
    return (name, path) if path else (Path(spec).name, spec)


def evaluate_sets(net, labels: list[str], kind: str, specs: list[str]) -> dict:
    """{set name: scores} for each NAME=DIR (genre folders must be among ``labels``)."""
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
