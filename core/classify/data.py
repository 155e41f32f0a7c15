"""Where each task's recordings are: the rendered corpora and the labelled real recordings, as ``Item`` rows.

    items = generated_items(GENRE, ".cache/genre/corpus") + real_items(GENRE, ".cache/real")
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.audio import AUDIO_EXTENSIONS
from core.classify.tasks import GENRE, Task
from core.data.real import load_manifest
from core.instruments.data import scan


@dataclass
class Item:
    """One recording: where it is, its class, the group a split keeps together, and where it came from."""

    path: Path
    label: str
    group: str
    source: str  # "generated" or "real"
    subset: str = ""  # generated: the SoundFont / corpus part; real: the package
    kind: str = ""  # real: "track", "phrase" (played passages, what users bring) or "note" (one sampled note)


def generated_items(task: Task, root) -> list[Item]:
    """The rendered corpus: genre ``<root>/<genre>/<piece>__<font>.flac``;
    instruments ``<root>/<font>/<class>/*.wav``."""
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
