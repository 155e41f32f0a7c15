"""Time whole-song genre prediction of a 3-minute track with each bundled model.

    python bench/bench_genre.py            # prints one JSON object

Target (issue 3): CNN, features included, under 0.5 s on 2 CPU cores. Decoding the file
(and resampling it to the model's rate) is reported separately. Seconds are the median of
5 runs after one warm-up.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np

from bench.timing import median_time as timed


def main():
    import torch

    from core.audio import load_audio, write_wav
    from core.genre import bundled_models, load

    torch.set_num_threads(2)
    examples = sorted((ROOT / "assets" / "examples" / "genre").glob("*.ogg"))
    clips = [load_audio(p, sr=44_100)[0] for p in examples]
    y = np.concatenate(clips * 4)[: 180 * 44_100]  # 3 minutes at 44.1 kHz, several genres
    out = {"track_seconds": len(y) / 44_100, "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "three_minutes.wav"
        write_wav(path, y, 44_100)
        for name in bundled_models():
            model = load(name)
            y_m, sr_m = load_audio(path, sr=model.sr)
            X, _ = model.features(y_m, sr_m)
            out[name] = {
                "decode_and_resample_s": timed(lambda: load_audio(path, sr=model.sr), repeats=3),
                "features_s": timed(lambda: model.features(y_m, sr_m)),
                "model_s": timed(lambda: model.excerpt_probs(X)),
                "predict_s": timed(lambda: model.predict(y_m, sr_m)),  # features + model + aggregation
                "excerpts": int(len(X)),
            }
    out["cnn_target_met"] = out.get("cnn", {}).get("predict_s", 9) < 0.5
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
