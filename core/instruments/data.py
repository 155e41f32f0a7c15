"""Instrument datasets: folder-per-class audio (a user's, or the rendered corpus), Medley-solos-DB's CSV.

Layouts understood by :func:`scan`:
- ``DIR/<class>/*.wav`` — any folder-per-class dataset;
- ``DIR/<soundfont>/<class>/*.wav`` — the corpus rendered by ``core.data.instruments``;
- a Medley-solos-DB copy: ``DIR/Medley-solos-DB_metadata.csv`` + ``DIR/audio/Medley-solos-DB_<subset>-<id>_<uuid>.wav``.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio import AUDIO_EXTENSIONS, load_audio
from core.features import AST_SR, ast_log_mel

CLIP_FRAMES = 298  # a 3 s clip at 16 kHz gives 298 Kaldi frames


@dataclass
class Item:
    path: Path
    label: str
    group: str  # a piece/song id: splits never put one group on both sides
    collection: str  # SoundFont or Medley-solos-DB subset


def _audio_files(folder: Path):
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def scan(root) -> list[Item]:
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder.")
    meta = root / "Medley-solos-DB_metadata.csv"
    if meta.exists():
        return scan_medley(root, meta)
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        inner = [p for p in sub.iterdir() if p.is_dir()]
        if inner and not _audio_files(sub):  # <font>/<class>/
            for cls in sorted(inner):
                items += [Item(f, cls.name, _group(f), sub.name) for f in _audio_files(cls)]
        else:
            items += [Item(f, sub.name, _group(f), root.name) for f in _audio_files(sub)]
    labels = sorted({i.label for i in items})
    if not items:
        raise ValueError(f"No audio files found under {root} (expected DIR/<class>/*.wav).")
    if len(labels) < 2:
        raise ValueError(f"Only one class ({labels[0]}) under {root}; a classifier needs at least two.")
    return items


def _group(path: Path) -> str:
    """Clips named <piece>_<k>.wav belong to one piece; anything else is its own group."""
    m = re.match(r"(.+)_\d+$", path.stem)
    return m.group(1) if m else path.stem


def scan_medley(root: Path, meta: Path) -> list[Item]:
    items = []
    with open(meta) as f:
        for row in csv.DictReader(f):
            name = f"Medley-solos-DB_{row['subset']}-{row['instrument_id']}_{row['uuid4']}.wav"
            path = root / "audio" / name
            if path.exists():
                items.append(Item(path, row["instrument"], row.get("song_id", row["uuid4"]), row["subset"]))
    if not items:
        raise ValueError(f"{meta} lists no audio found under {root / 'audio'}.")
    return items


def split_groups(items: list[Item], val_fraction: float = 0.15, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """Split by group (piece), deterministically."""
    def bucket(g):
        return int(hashlib.sha1(f"{seed}:{g}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    return [i for i in items if bucket(i.group) >= val_fraction], [i for i in items if bucket(i.group) < val_fraction]


def features(items: list[Item], frames: int = CLIP_FRAMES, progress=None) -> np.ndarray:
    """Log-mel of every item, padded/cut to ``frames``, as float16 (n, frames, 128) to keep memory low."""
    out = np.zeros((len(items), frames, 128), dtype=np.float16)
    for i, item in enumerate(items):
        y, _ = load_audio(item.path, sr=AST_SR, max_seconds=60, trim=True)
        out[i] = ast_log_mel(y, AST_SR, max_length=frames)
        if progress and i % 200 == 0:
            progress(i / len(items), f"features of {i}/{len(items)} clips")
    return out
