"""The timing rule every bench uses: one warm-up call (compilation, caches), then the median of ``repeats`` runs."""
from __future__ import annotations

import statistics
import time


def median_time(fn, repeats: int = 5) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after one warm-up run."""
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return round(statistics.median(runs), 4)
