"""The two baselines every generator must beat: uniform random notes and a first-order Markov chain."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.corpus import DURATIONS, REST


def random_events(n_quarters: float, rng: np.random.Generator, low: int = 55, high: int = 84,
                  rest_prob: float = 0.1) -> list[tuple[int, float]]:
    """Uniform random pitches in [low, high] and uniform random durations: music with no model at all."""
    events, total = [], 0.0
    while total < n_quarters:
        pitch = REST if rng.random() < rest_prob else int(rng.integers(low, high + 1))
        dur = float(rng.choice(DURATIONS))
        events.append((pitch, dur))
        total += dur
    return events


@dataclass
class MarkovChain:
    """First-order chain over the LSTM's event tokens: P(next | current) from bigram counts."""

    vocab: list[str]
    counts: np.ndarray  # (vocab, vocab) bigram counts

    @classmethod
    def fit(cls, sequences: list[list[int]], vocab: list[str]) -> "MarkovChain":
        counts = np.zeros((len(vocab), len(vocab)), dtype=np.float32)
        for seq in sequences:
            np.add.at(counts, (np.asarray(seq[:-1]), np.asarray(seq[1:])), 1.0)
        return cls(vocab=vocab, counts=counts)

    def next_distribution(self, current: int, temperature: float = 1.0) -> np.ndarray:
        row = self.counts[current].astype(np.float64)
        if row.sum() == 0:  # unseen context: back off to the unigram distribution
            row = self.counts.sum(axis=0).astype(np.float64)
        p = row ** (1.0 / max(temperature, 1e-3))
        return p / p.sum()
