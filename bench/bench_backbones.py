"""Time the musicnn backbones: a 3-minute song and a 3-second clip, decoding excluded.

    python bench/bench_backbones.py [--threads 2] [--write]     # prints one JSON object

Targets (issue 11): a 3-minute song's embedding under 0.3 s on 2 CPU cores; a 3 s clip under 20 ms.
Reported per backbone (MTT) and for both (what the genre and instrument heads read), in float32 (the
path the parity test holds to the original) and with the bfloat16 front end (``Musicnn.fast``).
Seconds are the median of 3 runs after one warm-up.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np

from bench.timing import median_time as timed


def main(threads: int = 2) -> dict:
    import torch

    from core.backbones import heads, musicnn

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    song = (rng.standard_normal(180 * musicnn.SR) * 0.1).astype(np.float32)
    clip = song[: 3 * musicnn.SR + musicnn.N_FFT]
    mtt, msd = musicnn.load("mtt"), musicnn.load("msd")
    X_song, _ = musicnn.patches(musicnn.log_mel(song))
    out = {"threads": threads, "song_patches": len(X_song)}
    out["log_mel_3min_s"] = timed(lambda: musicnn.log_mel(song), repeats=3)
    for fast in (False, True):
        for net in (mtt, msd):
            net.fast = fast
        tag = "bf16" if fast else "fp32"
        out[f"mtt_3min_network_{tag}_s"] = timed(lambda: mtt.embed(X_song, batch=4), repeats=3)
        out[f"both_3min_embedding_{tag}_s"] = timed(lambda: heads.embed(song), repeats=3)
        out[f"both_3s_clip_{tag}_ms"] = 1000 * timed(lambda: heads.embed(clip), repeats=5)
    for net in (mtt, msd):
        net.fast = False
    out["targets"] = {"3min_s": 0.3, "3s_clip_ms": 20}
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write", action="store_true",
                    help="also write docs/figures/backbone_bench.json (the README's table)")
    args = ap.parse_args()
    result = main(args.threads)
    if args.write:
        (ROOT / "docs" / "figures" / "backbone_bench.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
