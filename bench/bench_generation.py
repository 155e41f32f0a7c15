"""Time generating + rendering 30 s of music with each model, and drawing the tab's plots.

    python bench/bench_generation.py [--write]   # prints JSON (--write: docs/figures/generation_speed.json, the
                                                 # README's figures); target: generate+arrange+render < 1 s
"""
from __future__ import annotations

import json
import os
import sys
from io import BytesIO
from pathlib import Path

from bench.timing import median_time
from core import plots
from core.analysis import analyse
from core.generation import api
from core.render import render_midi


def main() -> dict:
    out = {"cpu_count": os.cpu_count(), "seconds_of_music": 30}
    for name in api.MODELS:
        out[f"{name}_generate_s"] = median_time(lambda: api.generate(name, seconds=30, seed=1))
        out[f"{name}_generate_and_render_s"] = median_time(
            lambda: render_midi(api.generate(name, seconds=30, seed=1), sr=22_050))
    from core.generation.arrange import arrange

    out["lstm_generate_arrange_render_s"] = median_time(
        lambda: render_midi(arrange(api.generate("lstm", seconds=30, seed=1), 120.0, "folk", 1), sr=22_050))
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
    result = main()
    if "--write" in sys.argv:
        result["command"] = "python bench/bench_generation.py --write"
        result["load_average"] = round(os.getloadavg()[0], 1)
        (Path(__file__).resolve().parent.parent / "docs" / "figures" / "generation_speed.json").write_text(
            json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
