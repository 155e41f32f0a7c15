"""The backbones' view of a recording, computed once: per-patch embeddings of both musicnn taggers.

    emb = embed(y16k)                          # {"mtt": Embedding, "msd": Embedding}, kept per upload
    X = features(emb, "penultimate+tags")      # (n patches, 500): what a head reads
    emb = embed_file("song.flac")              # cached on disk under .cache/embeddings (training, evaluation)

Only the pretrained encoders' outputs live here; what is built on them (heads, tasks, training) is
``core.classify``.
"""
from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.audio import load_audio
from core.backbones import musicnn
from core.threads import side_by_side

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "embeddings"
BACKBONES = ("mtt", "msd")
#: uploads whose embeddings ``embed`` keeps in memory (a 10-minute song at a 1.5 s hop: about 7 MB)
MEMORY_ENTRIES = 8
_memory: OrderedDict[str, dict] = OrderedDict()
#: run the two backbones side by side (``MUSIC_STUDIO_BACKBONE_PARALLEL=0``: one after the other)
PARALLEL = os.environ.get("MUSIC_STUDIO_BACKBONE_PARALLEL", "1") != "0"
_lock = threading.Lock()
PENULTIMATE = 200  # width of each backbone's penultimate layer
#: feature sets a head can read, per patch; dims are for both backbones together
FEATURES = {
    "penultimate": ("penultimate",),  # 2 × 200
    "penultimate+tags": ("penultimate", "tags"),  # 2 × 250
    "pooled": ("max_pool", "mean_pool"),  # 2 × 1506
    "tags": ("tags",),  # 2 × 50: the taggers' own outputs
}


def features(embeddings: dict[str, musicnn.Embedding], feature: str = "penultimate+tags",
             backbones=BACKBONES) -> np.ndarray:
    """(n patches, d) from the named backbones' embeddings of one recording."""
    parts = [getattr(embeddings[b], key) for b in backbones for key in FEATURES[feature]]
    return np.concatenate(parts, axis=1).astype(np.float32)


def embed(y: np.ndarray, sr: int = musicnn.SR, backbones=BACKBONES, hop_seconds: float = musicnn.PATCH_SECONDS,
          reuse: bool = True) -> dict[str, musicnn.Embedding]:
    """Mono 16 kHz audio through each backbone (loaded once per process).

    One pass per upload: the result is kept in memory under the audio's content (``MEMORY_ENTRIES`` uploads,
    oldest out first), so genre, the instruments' tags, the tags endpoint and a repeated request on the same
    audio read it instead of running the backbones again. Treat the returned embeddings as read-only.
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    key = f"{hashlib.blake2b(y.tobytes(), digest_size=16).hexdigest()}:{sr}:{hop_seconds}" if reuse else None
    with _lock:
        kept = dict(_memory.get(key, {})) if key else {}
        if key in _memory:
            _memory.move_to_end(key)
    todo = [b for b in backbones if b not in kept]
    if todo:
        kept.update(_run(todo, y, sr, hop_seconds))
    out = {b: kept[b] for b in backbones}
    if key:
        with _lock:
            _memory.setdefault(key, {}).update(out)
            _memory.move_to_end(key)
            while len(_memory) > MEMORY_ENTRIES:
                _memory.popitem(last=False)
    return out


def _run(names: list[str], y: np.ndarray, sr: int, hop_seconds: float) -> dict[str, musicnn.Embedding]:
    """The named backbones on one log-mel (they read the same input), side by side: each runs on one core
    (ONNX Runtime and torch release the GIL), so on 2 cores both take the time of one."""
    mel = musicnn.audio_mel(y, sr)
    nets = [musicnn.load(b) for b in names]

    def one(net):
        return musicnn.embed_audio(net, y, sr, hop_seconds, mel=mel)

    if not PARALLEL:
        return {b: one(net) for b, net in zip(names, nets)}
    return dict(zip(names, side_by_side(*[functools.partial(one, net) for net in nets])))


def forget() -> None:
    """Drop every upload's kept embeddings (tests; a server that must give memory back)."""
    with _lock:
        _memory.clear()


def embed_file(path, backbones=BACKBONES, hop_seconds: float = musicnn.PATCH_SECONDS, max_seconds: float = 600.0,
               augment: Callable[[np.ndarray, int], np.ndarray] | None = None, augment_name: str = "",
               cache: Path | None = CACHE) -> dict[str, musicnn.Embedding]:
    """``embed`` of a file, cached on disk. ``augment(y, sr)`` (named by ``augment_name``) runs before embedding."""
    path = Path(path)
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}:{hop_seconds}:{max_seconds}:{augment_name}"
                       .encode()).hexdigest()[:20]
    out: dict[str, musicnn.Embedding] = {}
    todo = []
    for b in backbones:
        f = cache / f"{key}_{b}.npz" if cache else None
        if f is not None and f.exists():
            z = np.load(f)
            out[b] = musicnn.Embedding(musicnn.load(b).labels, z["starts"], z["tags"], z["penultimate"],
                                       z["mean_pool"], z["max_pool"], bool(z["padded"]))
        else:
            todo.append(b)
    if todo:
        y, sr = load_audio(path, sr=musicnn.SR, max_seconds=max_seconds)
        if augment is not None:
            y = augment(y, sr)
        for b, e in embed(y, sr, todo, hop_seconds).items():
            out[b] = e
            if cache:
                cache.mkdir(parents=True, exist_ok=True)
                np.savez(cache / f"{key}_{b}.npz", starts=e.starts, tags=e.tags.astype(np.float16),
                         penultimate=e.penultimate.astype(np.float16), mean_pool=e.mean_pool.astype(np.float16),
                         max_pool=e.max_pool.astype(np.float16), padded=e.padded)
    return {b: out[b] for b in backbones}
