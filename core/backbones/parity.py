"""How closely the PyTorch port reproduces the TensorFlow original, on the clips in ``tests/data/musicnn``.

``reference.npz`` holds, per clip, the original's mel patches and its taggram / penultimate features
(made once in a throwaway TensorFlow venv by ``scripts/musicnn_reference.py``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.backbones.musicnn import Musicnn, log_mel, patches

CLIPS = ("rock", "classical", "violin", "dnb")


def measure_parity(folder, reference, tf_model: str = "MTT_musicnn") -> dict:
    """Max absolute differences port − original: from the original's mel (the network alone) and from the WAV
    (our mel front end + network), for the tags and the 200-d penultimate embedding."""
    import soundfile as sf

    ref = np.load(reference)
    net = Musicnn.from_pretrained(str(folder)).eval()
    clip_dir = Path(reference).parent
    worst = {"tags_from_mel": 0.0, "penultimate_from_mel": 0.0, "tags_from_audio": 0.0,
             "penultimate_from_audio": 0.0, "mel": 0.0}
    for clip in CLIPS:
        key = f"{clip}_{tf_model}"
        if f"{key}_taggram" not in ref:
            continue
        e = net.embed(ref[f"{clip}_mel"])
        worst["tags_from_mel"] = max(worst["tags_from_mel"], float(np.abs(e["tags"] - ref[f"{key}_taggram"]).max()))
        worst["penultimate_from_mel"] = max(worst["penultimate_from_mel"],
                                            float(np.abs(e["penultimate"] - ref[f"{key}_penultimate"]).max()))
        y, sr = sf.read(clip_dir / f"clip_{clip}.wav", dtype="float32")
        X, _ = patches(log_mel(y, sr))
        worst["mel"] = max(worst["mel"], float(np.abs(X - ref[f"{clip}_mel"]).max()))
        e = net.embed(X)
        worst["tags_from_audio"] = max(worst["tags_from_audio"], float(np.abs(e["tags"] - ref[f"{key}_taggram"]).max()))
        worst["penultimate_from_audio"] = max(worst["penultimate_from_audio"],
                                              float(np.abs(e["penultimate"] - ref[f"{key}_penultimate"]).max()))
    return {"max_abs_diff": worst, "clips": [c for c in CLIPS if f"{c}_{tf_model}_taggram" in ref],
            "command": "python scripts/convert_musicnn.py (parity measured against tests/data/musicnn/reference.npz)"}
