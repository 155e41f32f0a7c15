"""The backbones' runtimes on the real dev set: does ONNX Runtime (the default) change any answer PyTorch float32
(the path the parity test holds to musicnn's TensorFlow original) gives on real recordings?

    python scripts/runtime_real_dev.py [--real .cache/real] [--write]

Every labelled real recording (``core.data.real``: genre and instruments) goes through both backbones on each
runtime, then through the shipped default heads (genre and instruments) and the taggers' zero-shot mapping,
as the app runs them (16 kHz mono, 3 s patches, the mean over patches). Reports, per task and runtime, the
accuracy of each, how many answers differ between the runtimes and the largest tag difference. The shipped
heads were fitted with these recordings, so their accuracy here is an agreement check, not an estimate. With
``--write`` the figures go into both backbone cards (``metrics.runtimes_on_real_dev``) and
docs/figures/runtime_real_dev.json (docs/backbone.md's table).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from core.audio import AudioError, load_audio
from core.backbones import musicnn
from core.backbones.embed import BACKBONES, embed, features
from core.classify.data import real_items
from core.classify.tasks import TASKS, zero_shot_scores
from core.genre import api as genre_api
from core.instruments import api as inst_api
from core.training import update_card

RUNTIMES = ("torch", "onnxruntime")
COMMAND = "python scripts/runtime_real_dev.py --write"
FIGURE = Path(__file__).resolve().parent.parent / "docs" / "figures" / "runtime_real_dev.json"


def _runtime(name: str) -> None:
    """Force the backbones' runtime for the next calls (read per call: ``musicnn.RUNTIME_ENV``)."""
    if name == "torch":
        os.environ[musicnn.RUNTIME_ENV] = "torch"
    else:
        os.environ.pop(musicnn.RUNTIME_ENV, None)


def heads() -> dict:
    """The shipped default head of each task, as the app loads it."""
    return {"genre": genre_api.load(genre_api.DEFAULT_MODEL).net,
            "instruments": inst_api.load(inst_api.DEFAULT_MODEL).head}


def measure(real: Path) -> dict:
    mtt, msd = musicnn.load("mtt").labels, musicnn.load("msd").labels
    out = {}
    for task_name, head in heads().items():
        task = TASKS[task_name]
        items = real_items(task, real)
        answers = {rt: {"head": [], "zero_shot": []} for rt in RUNTIMES}
        max_tag_diff, used = 0.0, []
        for it in items:
            try:
                y, _ = load_audio(it.path, sr=musicnn.SR, max_seconds=600.0, trim=True)
            except AudioError:
                continue
            used.append(it)
            tags = {}
            for rt in RUNTIMES:
                _runtime(rt)
                emb = embed(y, reuse=False)
                probs = head.predict_proba(features(emb, head.feature, head.backbones)).mean(0)
                answers[rt]["head"].append(head.labels[int(probs.argmax())])
                zs = zero_shot_scores(task, emb["mtt"].tags, emb["msd"].tags, mtt, msd).mean(0)
                answers[rt]["zero_shot"].append(task.labels[int(zs.argmax())])
                tags[rt] = np.concatenate([emb[b].tags for b in BACKBONES], axis=1)
            max_tag_diff = max(max_tag_diff, float(np.abs(tags["torch"] - tags["onnxruntime"]).max()))
        _runtime("onnxruntime")
        truth = [it.label for it in used]
        default = genre_api.DEFAULT_MODEL if task_name == "genre" else inst_api.DEFAULT_MODEL
        row = {"recordings": len(used), "head": f"{task_name}/{default}", "max_abs_tag_diff": max_tag_diff}
        for what in ("head", "zero_shot"):
            row[what] = {rt: {"accuracy": round(float(np.mean([a == t for a, t in zip(answers[rt][what], truth)])), 4)}
                         for rt in RUNTIMES}
            row[what]["answers_that_differ"] = int(sum(a != b for a, b in zip(answers["torch"][what],
                                                                             answers["onnxruntime"][what])))
        out[task_name] = row
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, default=Path(".cache/real"))
    p.add_argument("--write", action="store_true", help="write the figures into both backbone cards and docs/figures")
    args = p.parse_args(argv)
    result = {"what": "the same answers on both runtimes, not an accuracy estimate: the shipped heads were fitted "
                      "with these recordings (their held-out figures are the cards' real_dev)",
              "command": COMMAND, **measure(args.real)}
    print(json.dumps(result, indent=1))
    if args.write:
        for folder in musicnn.BUNDLED.values():
            update_card(musicnn.BUNDLED_DIR / folder, {"runtimes_on_real_dev": result}, COMMAND)
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
