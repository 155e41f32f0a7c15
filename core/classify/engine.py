"""The one way both tabs run a head on the backbones: audio → 3 s patches → both taggers → head → per-patch
probabilities, with the tags and the notices that say how far to trust the answer.

    run = classify(y, sr, head, what="its genre")      # Classified: probs (patches, classes), starts, tags
    overall = run.probs.mean(0)

Genre aggregates the patches its way and instruments its way (loud windows only); everything before that is
here, written once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.audio import load_audio
from core.backbones import musicnn, tagging
from core.backbones.embed import embed, features


@dataclass
class Classified:
    labels: list[str]
    probs: np.ndarray  # (patches, classes)
    starts: np.ndarray  # (patches,) seconds: where each 3 s patch starts
    tags: tagging.TagPrediction  # both taggers' tags per patch
    y: np.ndarray  # the mono 16 kHz audio read
    padded: bool  # shorter than one patch: repeat-padded
    notices: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.y) / musicnn.SR


def classify(y: np.ndarray, sr: int, head, hop_seconds: float = musicnn.PATCH_SECONDS, what: str = "it") -> Classified:
    """Run ``head`` (``core.classify.heads``: mapping, prior or trained head) over mono audio ``y``.

    Silence and clips under 1 s are refused (``AudioError``), a clip under one patch is padded and said so;
    the embeddings are computed once per upload (``core.backbones.embed.embed``) and shared with the tags.
    """
    notices = tagging.check_audio(y, sr, what)
    if sr != musicnn.SR:
        y, sr = load_audio((sr, y), sr=musicnn.SR, max_seconds=None)
    emb = embed(y, sr, hop_seconds=hop_seconds)  # both taggers: the head reads its own, the tags read both
    probs = head.predict_proba(features(emb, head.feature, head.backbones))
    first = emb[head.backbones[0]]
    return Classified(list(head.labels), probs, first.starts, tagging.from_embeddings(emb, len(y) / sr), y,
                      bool(first.padded), notices)
