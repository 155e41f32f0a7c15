"""Tags for any recording: the MTT and MSD taggers' 100 tags, ranked, and their evolution over time.

    result = tag_file("song.flac")            # TagPrediction
    result.ranked(10)                          # [("MSD", "rock", 0.71), ("MTT", "guitar", 0.64), ...]
    result.to_csv(path)                        # one row per 3 s patch, every tag
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

import numpy as np

from core.audio import SILENCE_PEAK, AudioError, check_min_seconds, cut_notice, load_audio
from core.backbones import musicnn
from core.backbones.embed import embed

#: Shorter than this there is too little music to judge; between this and one patch the clip is
#: repeat-padded to 3 s and the result says so.
MIN_SECONDS = 1.0
#: MTT tags that mean a band or a beat is playing: a solo-instrument classifier should not be trusted then
#: The rhythm-section tags: a band or a beat. Not "rock", "pop" or "metal", which a solo electric guitar earns
#: by itself (it was told it sounded like a full mix).
MIX_TAGS = ("drums", "beat", "beats", "techno", "electronic", "dance")
#: The lowest threshold no real solo recording crosses: ``python -m core.classify.mixes``
#: (docs/figures/mix_threshold.json).
MIX_THRESHOLD = 0.27


@dataclass
class TagPrediction:
    starts: np.ndarray  # (n,) seconds: start of each 3 s patch
    mtt_labels: list[str]
    msd_labels: list[str]
    mtt: np.ndarray  # (n, 50) MagnaTagATune tag probabilities per patch (the taggram)
    msd: np.ndarray  # (n, 50) Million Song Dataset tag probabilities per patch
    duration: float
    notices: list[str] = field(default_factory=list)

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mtt.mean(0), self.msd.mean(0)

    def to_dict(self, k: int = 20) -> dict:
        """JSON-ready: the ``k`` strongest tags over the whole input, and both taggers' tags per patch."""
        return {"duration_s": round(self.duration, 3), "notices": list(self.notices),
                "top": [{"tagger": d, "tag": t, "probability": round(p, 4)} for d, t, p in self.ranked(k)],
                "patch_starts_s": [round(float(t), 3) for t in self.starts],
                "mtt": {t: [round(float(v), 4) for v in self.mtt[:, i]] for i, t in enumerate(self.mtt_labels)},
                "msd": {t: [round(float(v), 4) for v in self.msd[:, i]] for i, t in enumerate(self.msd_labels)}}

    def ranked(self, k: int | None = None) -> list[tuple[str, str, float]]:
        """(dataset, tag, mean probability) over both taggers, best first."""
        a, b = self.mean()
        rows = ([("MTT", t, float(p)) for t, p in zip(self.mtt_labels, a)]
                + [("MSD", t, float(p)) for t, p in zip(self.msd_labels, b)])
        rows.sort(key=lambda r: -r[2])
        return rows[:k] if k else rows

    def taggram(self, k: int = 12) -> tuple[list[str], np.ndarray]:
        """The ``k`` strongest tags and their (k, n) evolution over the patches: the tag-over-time strip."""
        top = self.ranked(k)
        rows = [(self.mtt if d == "MTT" else self.msd)[:, (self.mtt_labels if d == "MTT" else self.msd_labels).index(t)]
                for d, t, _ in top]
        return [f"{t} ({d})" for d, t, _ in top], np.stack(rows) if rows else np.zeros((0, len(self.starts)))

    def mix_score(self) -> float:
        """How much the taggers hear a band or a beat (max over ``MIX_TAGS`` of the mean MTT tag)."""
        a = self.mtt.mean(0)
        return float(max(a[self.mtt_labels.index(t)] for t in MIX_TAGS))

    @property
    def is_full_mix(self) -> bool:
        return self.mix_score() >= MIX_THRESHOLD

    def to_csv(self, path) -> str:
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["start_s", "end_s", *[f"MTT:{t}" for t in self.mtt_labels],
                        *[f"MSD:{t}" for t in self.msd_labels]])
            for s, a, b in zip(self.starts, self.mtt, self.msd):
                w.writerow([f"{s:.2f}", f"{s + musicnn.PATCH_SECONDS:.2f}", *[f"{v:.4f}" for v in a],
                            *[f"{v:.4f}" for v in b]])
        return str(path)

    def summary_row(self, k: int = 5) -> dict:
        """The top ``k`` tags as one string plus every tag's mean: a row of a batch-tagging CSV."""
        a, b = self.mean()
        return {"tags": ", ".join(f"{t} {p:.2f}" for _, t, p in self.ranked(k)),
                **{f"MTT:{t}": round(float(v), 4) for t, v in zip(self.mtt_labels, a)},
                **{f"MSD:{t}": round(float(v), 4) for t, v in zip(self.msd_labels, b)}}


def check_audio(y: np.ndarray, sr: int, what: str) -> list[str]:
    """Refuse silence and clips under ``MIN_SECONDS``; return the notice for a clip that will be padded."""
    y = np.asarray(y)
    if y.size == 0:
        raise AudioError("The audio is empty: it has no samples.")
    check_min_seconds(y.shape[-1], sr, MIN_SECONDS, f"judge {what}")  # the wording analysis and effects use
    duration = y.shape[-1] / sr
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(f"No signal: the audio is silent, so {what} cannot be judged.")
    if duration < musicnn.PATCH_SECONDS:
        return [f"The clip is {duration:.1f} s long, shorter than the 3 s the models listen to: it was repeated to "
                "fill 3 s, so the answer is less reliable."]
    return []


def from_embeddings(embeddings: dict[str, musicnn.Embedding], duration: float, notices=()) -> TagPrediction:
    a, b = embeddings["mtt"], embeddings["msd"]
    return TagPrediction(a.starts, a.labels, b.labels, a.tags, b.tags, duration, list(notices))


def tag(y: np.ndarray, sr: int = musicnn.SR) -> TagPrediction:
    """Mono audio at 16 kHz → tags of both taggers per 3 s patch."""
    notices = check_audio(y, sr, "its tags")
    return from_embeddings(embed(y, sr), len(y) / sr, notices)


def tag_file(source, max_seconds: float = 600.0) -> TagPrediction:
    """Load (capped at ``max_seconds``: longer input is cut, and the notices say so) and tag."""
    y, sr = load_audio(source, sr=musicnn.SR, max_seconds=max_seconds, trim=True)
    result = tag(y, sr)
    result.notices[:0] = cut_notice(source, max_seconds)
    return result
