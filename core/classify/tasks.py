"""The two tasks the backbone heads serve, and the data each is trained and measured on.

A task names its classes, the zero-shot mapping from the taggers' tags onto them (the baseline that
needs no training), and where its generated and real recordings are.

    items = generated_items(GENRE, ".cache/genre/corpus") + real_items(GENRE, ".cache/real")
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.audio import AUDIO_EXTENSIONS
from core.data.real import load_manifest
from core.instruments.data import scan
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


@dataclass
class Item:
    """One recording: where it is, its class, the group a split keeps together, and where it came from."""

    path: Path
    label: str
    group: str
    source: str  # "generated" or "real"
    subset: str = ""  # generated: the SoundFont / corpus part; real: the package
    kind: str = ""  # real: "track", "phrase" (played passages, what users bring) or "note" (one sampled note)


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


def generated_items(task: Task, root) -> list[Item]:
    """The rendered corpus: genre ``<root>/<genre>/<piece>__<font>.flac``; instruments ``<root>/<font>/<class>/*.wav``."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder (render it first; see the model card's command).")
    items = []
    if task is GENRE:
        for genre in task.labels:
            for f in sorted((root / genre).glob("*")):
                if f.suffix.lower() in AUDIO_EXTENSIONS:
                    font = f.stem.split("__")[-1]
                    items.append(Item(f, genre, f"{genre}/{f.stem.split('__')[0]}", "generated", font))
    else:
        items = [Item(i.path, i.label, f"{i.collection}/{i.group}", "generated", i.collection) for i in scan(root)
                 if i.label in task.labels]
    return items


def real_items(task: Task, root) -> list[Item]:
    """The labelled real recordings built by ``python -m core.data.real`` (manifest + audio under ``root``)."""
    out = []
    for rec in load_manifest(root):
        if rec["task"] != task.name:
            continue
        label = task.aliases.get(rec["label"], rec["label"])
        if label in task.labels:
            out.append(Item(Path(rec["abs_path"]), label, rec["group"], "real", rec["package"], rec.get("kind", "")))
    return out
