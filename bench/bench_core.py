"""Time the app's start-up and first request, and each core function on a 3-minute track.

    python bench/bench_core.py            # prints one JSON object

Figures: seconds (median of `repeats` runs after one warm-up), resident memory in MB.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np
import psutil

from bench.timing import median_time as timed


def three_minute_track(path: Path) -> Path:
    from core.audio import load_audio, write_wav

    y, sr = load_audio(ROOT / "assets" / "examples" / "house_groove_124bpm.ogg", sr=44_100)
    chorale, _ = load_audio(ROOT / "assets" / "examples" / "bach_chorale_bwv66_6.flac", sr=44_100)
    mix = np.tile(np.concatenate([y, chorale]), 6)[: 180 * sr]
    return Path(write_wav(path, mix, sr))


def bench_app() -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, check=True)
    import_s = time.perf_counter() - t0

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from gradio_client import Client, handle_file

        url = f"http://127.0.0.1:{port}/"
        while True:
            try:
                client = Client(url, verbose=False)
                break
            except Exception:
                if proc.poll() is not None or time.perf_counter() - t0 > 180:
                    raise RuntimeError("the app did not start")
                time.sleep(0.25)
        ready_s = time.perf_counter() - t0
        example = handle_file(str(ROOT / "assets" / "examples" / "house_groove_124bpm.ogg"))
        t1 = time.perf_counter()
        client.predict(example, api_name="/analyse")
        first_s = time.perf_counter() - t1
        t1 = time.perf_counter()
        client.predict(example, api_name="/analyse")
        second_s = time.perf_counter() - t1
        rss_mb = psutil.Process(proc.pid).memory_info().rss / 2**20
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "import_app_s": round(import_s, 2),
        "start_to_ready_s": round(ready_s, 2),
        "first_request_s": round(first_s, 3),
        "second_request_s": round(second_s, 3),
        "app_rss_mb": round(rss_mb, 1),
    }


def bench_core() -> dict:
    import pretty_midi

    from core import analysis, features, plots, render
    from core.audio import audio_stats, load_audio

    with tempfile.TemporaryDirectory() as tmp:
        track = three_minute_track(Path(tmp) / "track.wav")
        y, sr = load_audio(track, sr=22_050)
        result = analysis.analyse(y, sr)
        pm = pretty_midi.PrettyMIDI(str(ROOT / "assets" / "examples" / "house_groove_124bpm.mid"))
        out = {
            "track_seconds": len(y) / sr,
            "load_audio_44k_to_22k_s": timed(lambda: load_audio(track, sr=22_050)),
            "log_mel_s": timed(lambda: features.log_mel(y, sr)),
            "mfcc_s": timed(lambda: features.mfcc(y, sr)),
            "chroma_s": timed(lambda: features.chroma(y, sr)),
            "zcr_s": timed(lambda: features.zcr(y)),
            "hpss_s": timed(lambda: features.hpss(y), repeats=1),
            "audio_stats_s": timed(lambda: audio_stats(y, sr)),
            "analyse_s": timed(lambda: analysis.analyse(y, sr)),
            "plot_waveform_s": timed(lambda: plots.save(plots.waveform(y, sr), Path(tmp) / "w.png")),
            "plot_log_mel_s": timed(lambda: plots.save(plots.spectrogram(result.log_mel, sr), Path(tmp) / "m.png")),
            "plot_chroma_s": timed(lambda: plots.save(plots.chroma(result.chroma, sr), Path(tmp) / "c.png")),
            "plot_zcr_s": timed(lambda: plots.save(plots.zcr(result.zcr, sr), Path(tmp) / "z.png")),
            "render_midi_16s_groove_s": timed(lambda: render.render_midi(pm, sr=44_100)),
        }
    out["bench_rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    return out


if __name__ == "__main__":
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    report = {"cpu_count": os.cpu_count(), **bench_core(), **bench_app()}
    print(json.dumps(report, indent=2))
