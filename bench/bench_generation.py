"""Time generating + rendering 30 s of music with each model, and drawing the tab's plots.

    python bench/bench_generation.py      # prints JSON; target: generate+render < 1 s, plots < 1 s more
"""
from __future__ import annotations

import json
import os
import sys
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_time  # noqa: E402

from core import plots  # noqa: E402
from core.analysis import analyse  # noqa: E402
from core.generation import api  # noqa: E402
from core.render import render_midi  # noqa: E402


def main() -> dict:
    out = {"cpu_count": os.cpu_count(), "seconds_of_music": 30}
    for name in api.MODELS:
        out[f"{name}_generate_s"] = median_time(lambda: api.generate(name, seconds=30, seed=1))
        out[f"{name}_generate_and_render_s"] = median_time(
            lambda: render_midi(api.generate(name, seconds=30, seed=1), sr=22_050))
    audio = render_midi(api.generate("lstm", seconds=30, seed=1), sr=22_050)
    pm = api.generate("lstm", seconds=30, seed=1)

    def draw():
        a = analyse(audio.audio, audio.sr)
        for fig in (plots.piano_roll(pm), plots.spectrogram(a.log_mel, a.sr), plots.chroma(a.chroma, a.sr),
                    plots.zcr(a.zcr, a.sr)):
            fig.savefig(BytesIO(), format="webp")

    out["analysis_and_plots_s"] = median_time(draw, repeats=3)
    out["compose_lstm_30s_end_to_end_s"] = median_time(lambda: api.compose("lstm", seconds=30, seed=1), repeats=3)
    return out


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)  # as app.py serves on CPU
    print(json.dumps(main(), indent=2))
