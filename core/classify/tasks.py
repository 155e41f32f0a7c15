"""The two tasks the backbone heads serve, and the data each is trained and measured on.

A task names its classes and the zero-shot mapping from the taggers' tags onto them (the baseline that
needs no training); where its recordings are is ``core.classify.data``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from core.training import MODELS_DIR


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...]
    #: class → (MTT tags, MSD tags) whose maximum scores the class with no training
    zero_shot: dict = field(default_factory=dict)
    #: real-manifest label → our label, where they are spelled differently
    aliases: dict = field(default_factory=dict)


#: Where each task's zero-shot mapping lives: the "tags" model's config (``assets/models/<task>/tags``).
MAPPINGS_DIR = MODELS_DIR


def tag_mapping(task: str) -> tuple[tuple[str, ...], dict]:
    """(labels, class → (MTT tags, MSD tags)) from the task's "tags" model config, the one place it is written."""
    config = json.loads((MAPPINGS_DIR / task / "tags" / "config.json").read_text())
    return tuple(config["labels"]), {c: (tuple(m.get("mtt", ())), tuple(m.get("msd", ())))
                                     for c, m in config["mapping"].items()}


GENRE = Task("genre", *tag_mapping("genre"), {"hip-hop": "hiphop"})
# clarinet, tenor saxophone and trumpet have no MTT/MSD tag: only a trained head can name them
INSTRUMENTS = Task("instruments", *tag_mapping("instruments"))
TASKS = {t.name: t for t in (GENRE, INSTRUMENTS)}


def zero_shot_scores(task: Task, tags_mtt: np.ndarray, tags_msd: np.ndarray, mtt_labels, msd_labels) -> np.ndarray:
    """(n, classes) scores from the taggers' tag probabilities (n patches): each class's best mapped tag.

    Classes with no mapped tag score 0 and can never be chosen: that is the baseline's honest limit.
    """
    mi = {t: i for i, t in enumerate(mtt_labels)}
    si = {t: i for i, t in enumerate(msd_labels)}
    out = np.zeros((len(tags_mtt), len(task.labels)), np.float32)
    for j, c in enumerate(task.labels):
        mtt, msd = task.zero_shot.get(c, ((), ()))
        cols = [tags_mtt[:, mi[t]] for t in mtt] + [tags_msd[:, si[t]] for t in msd]
        if cols:
            out[:, j] = np.max(np.stack(cols, 1), 1)
    return out
