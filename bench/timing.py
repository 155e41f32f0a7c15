"""The timing rule every bench uses: one warm-up call (compilation, caches), then the median of ``repeats`` runs."""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path


def median_time(fn, repeats: int = 5) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after one warm-up run."""
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return round(statistics.median(runs), 4)


def machine() -> dict:
    """The CPU and the load before a run (benches on a shared machine say how busy it was)."""
    cpu = platform.processor() or ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "loadavg_before": list(os.getloadavg())}
