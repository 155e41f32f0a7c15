"""Loop and sample search speed on a 7.5-minute track: preparing it, and each proposal after an answer.

    python bench/bench_search.py [--threads 2]   # JSON; targets (2 CPU cores): prepare < 3 s, proposal < 20 ms

The track is the bundled drum & bass example tiled to 450 s; decoding is excluded.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np

from bench.timing import median_time
from core.audio import load_audio
from core.search import SearchSession, prepare, spaces

EXAMPLE = ROOT / "assets/examples/search/drum_and_bass_loops_and_samples.ogg"


def proposal_ms(track, t0: float, d: float, kind: str, answers: int = 12) -> float:
    """Median time of feedback + propose over ``answers`` alternating answers."""
    s = SearchSession(track, t0, d, patience=answers + 1, kind=kind)
    t = s.propose()
    times = []
    for i in range(answers):
        start = time.perf_counter()
        s.feedback(t, i % 3 == 0)
        t = s.propose()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main() -> dict:
    import torch

    torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2)
    y, sr = load_audio(EXAMPLE, sr=spaces.SR)
    long = np.tile(y, int(np.ceil(450 * sr / len(y))))[: 450 * sr]
    out = {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
           "load_average_1min": round(os.getloadavg()[0], 2), "track_s": len(long) / sr}
    for space in spaces.SPACES:
        out[f"{space}_prepare_7.5min_s"] = median_time(lambda: prepare(long, sr, space), repeats=3)
        track = prepare(long, sr, space)
        out[f"{space}_proposal_sample_ms"] = proposal_ms(track, 3.4, 0.8, "sample")
        out[f"{space}_proposal_loop_ms"] = proposal_ms(track, 27.5, 2.8, "loop")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
