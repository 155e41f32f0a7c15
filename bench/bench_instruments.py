"""Instrument classification speed: one 3 s clip, and the timeline of a 3-minute recording, per model.

    python bench/bench_instruments.py [--threads 2]   # JSON

Targets (CNN, 2 CPU cores): a clip under 20 ms, a 3-minute timeline under 1 s.

The load average is printed too: on a shared machine, 2 torch threads can be slower than 1.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np

from bench.timing import median_time
from core.audio import load_audio
from core.instruments import api


def main() -> dict:
    import torch

    if "--threads" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    medley, sr = load_audio(ROOT / "assets/examples/instruments/medley_flute_singer_piano_trumpet_violin.flac",
                            sr=16_000)
    clip = medley[: 3 * sr]
    three_minutes = np.tile(medley, int(np.ceil(180 * sr / len(medley))))[: 180 * sr]
    out = {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
           "load_average_1min": round(os.getloadavg()[0], 2)}
    for name in api.BUNDLED:
        try:
            clf = api.load(name)
        except ValueError:
            continue
        out[f"{name}_clip_3s_ms"] = round(1000 * median_time(lambda: api.predict(clip, sr, clf)), 1)
        out[f"{name}_timeline_3min_s"] = median_time(lambda: api.predict(three_minutes, sr, clf), repeats=3)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
