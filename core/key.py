"""Musical key from chroma: the Krumhansl–Kessler key profiles, correlated with the recording's mean chroma.

>>> import numpy as np
>>> c_major_scale = np.zeros((12, 8)); c_major_scale[[0, 2, 4, 5, 7, 9, 11]] = 1; c_major_scale[[0, 4, 7]] += 1
>>> estimate(c_major_scale).name
'C major'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class Key:
    tonic: str
    mode: str  # "major" or "minor"
    correlation: float  # Pearson r of the mean chroma with the key's profile
    runner_up: str  # the next best key
    margin: float  # r(best) - r(runner up): near 0 means the two are hard to tell apart

    @property
    def name(self) -> str:
        return f"{self.tonic} {self.mode}"

    def describe(self) -> str:
        return f"{self.name} (r = {self.correlation:.2f}; next {self.runner_up}, {self.margin:+.2f})"


def estimate(chroma: np.ndarray) -> Key | None:
    """The best-matching of the 24 major and minor keys for chroma (12, frames); None for no pitch content."""
    profile = np.asarray(chroma, dtype=float).mean(axis=1)
    if not np.isfinite(profile).all() or np.ptp(profile) <= 1e-9:
        return None
    scores = []
    for mode, template in (("major", MAJOR), ("minor", MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(profile, np.roll(template, tonic))[0, 1])
            scores.append((r, PITCH_CLASSES[tonic], mode))
    scores.sort(reverse=True)
    (r1, tonic, mode), (r2, t2, m2) = scores[0], scores[1]
    return Key(tonic, mode, round(r1, 3), f"{t2} {m2}", round(r1 - r2, 3))
