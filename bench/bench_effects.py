"""Speed of every bundled effect model at 44.1 kHz on one CPU thread (and on GPU when present).

    python bench/bench_effects.py [--seconds 10] [--repeats 3] [--write]   # prints one JSON object

Also NAM's LSTM 1x16 and 2x8 and its WaveNet standard, lite and feather, as capture mode trains and exports them
(speed does not depend on the weights: freshly initialised and settled), run by this app's runtime. ``--write``
stores docs/figures/effects_speed.json for the README table.

xRT = seconds of audio processed per second. Both wall-clock (best of ``repeats``) and CPU time of this
process are given: on a shared machine the CPU figure is the one that does not depend on other load.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np
import torch

from core.effects import api, fx
from core.effects import models as M


def bench(model, config, x, repeats, device="cpu"):
    model = model.to(device)
    run = (lambda: api.run_model(model, x, config, api.default_cond(config))) if device == "cpu" else None
    if device != "cpu":
        xt = torch.from_numpy(x)[None].to(device)
        cond = api.default_cond(config)
        c = None if cond is None else torch.as_tensor(cond)[None].to(device)

        def run():
            with torch.no_grad():
                model(xt, c)
            torch.cuda.synchronize()
    run()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        w, c0 = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c0)
    seconds = len(x) / fx.SR
    return {"xRT_wall": round(seconds / min(walls), 1), "xRT_cpu": round(seconds / min(cpus), 1)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--write", action="store_true", help="also write docs/figures/effects_speed.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    x = (np.random.default_rng(0).standard_normal(int(args.seconds * fx.SR)) * 0.2).astype(np.float32)
    out = {"sample_rate": fx.SR, "threads": 1, "audio_seconds": args.seconds,
           "load_avg_1min": round(os.getloadavg()[0], 2), "models": {}}
    for d in sorted(api.MODELS_ROOT.iterdir()):
        if not (d / "model.safetensors").exists() or d.name.startswith("capture"):
            continue
        emulation = api.EffectModel.from_pretrained(d)
        model, config = emulation.net, emulation.config
        row = {"kind": config["kind"], "params": M.n_params(model),
               "size_kb": round((d / "model.safetensors").stat().st_size / 1024, 1),
               **bench(model, config, x, args.repeats)}
        if torch.cuda.is_available() and config["kind"] not in ("octave", "vocoder"):  # these run in numpy
            row["gpu"] = bench(model, config, x, args.repeats, "cuda")
        out["models"][d.name] = row
        print(d.name, row, file=sys.stderr, flush=True)
    from core.effects import nam
    from core.effects.train import NETWORK_DEFAULTS

    for name in [k for k in NETWORK_DEFAULTS if k.startswith("nam-")]:  # what a NAM capture exports, in this runtime
        spec = NETWORK_DEFAULTS[name]
        model = nam.settle(M.build(spec["kind"], **spec["kwargs"]).eval())
        config = {"kind": spec["kind"], "knob_ranges": {}, "knobs": {}}
        out["models"][f"{name} (capture, .nam)"] = {"kind": spec["kind"], "params": M.n_params(model), "size_kb": None,
                                                     **bench(model, config, x, args.repeats)}
    out["command"] = "python bench/bench_effects.py --write"
    print(json.dumps(out, indent=2))
    if args.write:
        (ROOT / "docs" / "figures" / "effects_speed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
