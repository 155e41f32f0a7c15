"""Folder-per-genre datasets (GTZAN's layout): scan, split by track, extract excerpts once.

    DIR/<genre>/<track>.wav|flac|mp3|ogg|au

Files whose names share the part before ``__`` (``song12__FluidR3_GM.flac``,
``song12__TimGM6mb.flac``) are renders of one track: the split keeps them together.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio import AUDIO_EXTENSIONS, load_audio
from core.genre.features import EXCERPT_S, INPUTS, excerpts

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "genre" / "features"
EXTS = set(AUDIO_EXTENSIONS) | {".au"}


@dataclass
class Track:
    key: str  # genre/track id: the unit of the split
    label: int
    files: list[Path]


def scan(data_dir) -> tuple[list[str], list[Track]]:
    """(sorted class names, tracks). Raises ValueError with a message for the CLI user."""
    root = Path(data_dir)
    if not root.is_dir():
        raise ValueError(f"--data {root}: no such folder. Expected one sub-folder of audio files per genre.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    empty = [p.name for p in folders if not any(f.suffix.lower() in EXTS for f in p.iterdir())]
    if empty:
        raise ValueError(f"These genre folders in {root} hold no audio files: {', '.join(empty)}. "
                         "Remove them or add audio.")
    if len(folders) < 2:
        found = folders[0].name if folders else "none"
        raise ValueError(
            f"{root} needs at least two genre sub-folders of audio files to train a classifier (found: {found})."
        )
    labels = [p.name for p in folders]
    tracks: dict[str, Track] = {}
    for i, folder in enumerate(folders):
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in EXTS:
                key = f"{folder.name}/{f.stem.split('__')[0]}"
                tracks.setdefault(key, Track(key, i, [])).files.append(f)
    return labels, list(tracks.values())


def split_tracks(tracks: list[Track], fractions=(0.7, 0.15, 0.15), seed: int = 0) -> tuple[list, list, list]:
    """70/15/15 by track, stratified by class and seeded: no test track has an excerpt in training."""
    rng = random.Random(seed)
    train, val, test = [], [], []
    for label in sorted({t.label for t in tracks}):
        group = sorted((t for t in tracks if t.label == label), key=lambda t: t.key)
        rng.shuffle(group)
        n = len(group)
        n_val = max(1, round(n * fractions[1])) if n >= 3 else 0
        n_test = max(1, round(n * fractions[2])) if n >= 3 else 0
        test += group[:n_test]
        val += group[n_test:n_test + n_val]
        train += group[n_test + n_val:]
    return train, val, test


def file_excerpts(path: Path, kind: str, hop_s: float, max_seconds: float = 600.0) -> np.ndarray:
    """Excerpts of one file, cached on disk by path, size, mtime, kind and hop."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}:{kind}:{hop_s}".encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.npy"
    if cached.exists():
        return np.load(cached)
    y, sr = load_audio(path, sr=INPUTS[kind], max_seconds=max_seconds, trim=True)
    X, _ = excerpts(y, sr, kind, hop_s)
    X = X.astype(np.float16)  # halves the cache; inputs are normalised, so precision is ample
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, X)
    return X


def build_set(tracks: list[Track], kind: str, hop_s: float = EXCERPT_S / 2, progress=None):
    """(X, y, track index per excerpt) for a list of tracks."""
    X, y, tid = [], [], []
    for i, t in enumerate(tracks):
        for f in t.files:
            E = file_excerpts(f, kind, hop_s)
            X.append(E)
            y += [t.label] * len(E)
            tid += [i] * len(E)
        if progress:
            progress((i + 1) / len(tracks), f"excerpts of {i + 1}/{len(tracks)} tracks")
    if not X:
        return np.zeros((0,)), np.zeros((0,), int), np.zeros((0,), int)
    return np.concatenate(X).astype(np.float32), np.asarray(y), np.asarray(tid)
