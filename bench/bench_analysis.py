"""Where a 3-minute song's analysis spends its time, stage by stage, in-process as the app runs it (one torch thread).

    python bench/bench_analysis.py [--repeats 3] [--write]   # → docs/figures/analysis_speed.json

The target (issue 31): beats, chords and key of a 3-minute song in under 1 s on 2 cores, on top of the levels and
features; the whole analysis through the API is timed by ``bench/bench_latency.py``.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "figures" / "analysis_speed.json"
TARGET_S = 1.0  # beats + chords + key of 3 minutes


def _draw(result) -> None:
    """The tab's four time plots, encoded as Gradio encodes a matplotlib figure for the page."""
    from gradio import processing_utils

    from core import plots

    for fig in plots.analysis_figures(result):
        processing_utils.encode_plot_to_base64(fig, "webp")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # as app.py runs on CPU
    from bench.bench_latency import three_minutes
    from bench.timing import machine, median_time
    from core import analysis, features, levels
    from core import key as key_
    from core.audio import load_audio, resample
    from core.beats import beatnet
    from core.chords import crema

    facts = machine()
    with tempfile.TemporaryDirectory() as d:
        song = str(three_minutes(Path(d)))
        y_file, file_sr = load_audio(song, sr=None, mono=False)
        y = resample(y_file.mean(axis=0), file_sr, analysis.ANALYSIS_SR)
        sr = analysis.ANALYSIS_SR
        chroma = features.chroma(y, sr)
        chords = crema.recognise(y, sr)
        r = args.repeats
        stages = {
            "decode_s": median_time(lambda: load_audio(song, sr=None, mono=False), r),
            "levels_s": median_time(lambda: levels.measure_array(y_file, file_sr), r),
            "spectrogram_chroma_mel_s": median_time(lambda: analysis.analyse(y, sr, tempo_and_key=False), r),
            "beats_beatnet_s": median_time(lambda: beatnet.track(y, sr), r),
            "chords_crema_s": median_time(lambda: crema.recognise(y, sr), r),
            "key_from_chroma_and_chords_s": median_time(lambda: key_.estimate_with_chords(chroma, chords), r),
            "beats_chords_side_by_side_s": median_time(lambda: analysis.beats_and_chords(y, sr), r),
            "whole_analysis_in_process_s": median_time(lambda: analysis.analyse_file(song), r),
        }
        result = analysis.analyse_file(song)
        stages["plots_s"] = median_time(lambda: _draw(result), r)
        stages["features_csv_s"] = median_time(lambda: analysis.to_csv(result, Path(d) / "features.csv"), r)
    beats_chords_key = stages["beats_chords_side_by_side_s"] + stages["key_from_chroma_and_chords_s"]
    out = {"file": "3 min, 44.1 kHz stereo FLAC (the latency bench's song)", "repeats": args.repeats,
           "machine": facts, "stages": stages, "beats_chords_key_s": round(beats_chords_key, 3),
           "target_s": TARGET_S, "meets_target": beats_chords_key <= TARGET_S,
           "command": "python bench/bench_analysis.py --write"}
    print(json.dumps(out, indent=1))
    if args.write:
        OUT.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
