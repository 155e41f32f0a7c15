"""Train one of the genre networks on a folder-per-genre dataset.

    python -m core.genre.train --data DIR --model cnn [--out assets/models/genre/cnn]
           [--eval-data NAME=DIR ...] [--epochs 300] [--patience 50] [--resume]

The paper's recipe: cross-entropy; a 70/15/15 split by track; stop when validation accuracy
has not improved by 1% in ``--patience`` epochs (50 in the paper); LR × 0.2 when training
loss has not fallen by 1e-4 in 5 epochs. The best-validation weights are saved with
``card.json`` (metrics on the held-out test tracks and on every ``--eval-data`` set),
``report.json`` (history, per-class scores, confusion matrices) and two figures.

Plain PyTorch: runs unchanged under ``torchrun --nproc_per_node N -m core.genre.train ...``.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core import plots
from core.genre import data as gdata
from core.genre.metrics import evaluate_sets, predict_logits, scores
from core.genre.metrics import summary as summarise
from core.genre.models import INPUT_OF, build, n_params
from core.training import (
    MODELS_DIR,
    EarlyStopping,
    ModelCard,
    end_run,
    load_resume,
    plateau_scheduler,
    progress_bar,
    save_checkpoint,
    save_resume,
    start_run,
    wrap,
)

log = logging.getLogger("core.genre.train")
RUNS = Path(__file__).resolve().parents[2] / "runs" / "genre"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with one sub-folder of audio files per genre")
    p.add_argument("--model", default="cnn", choices=list(INPUT_OF))
    p.add_argument("--out", default=None, help="where weights + card.json go (default assets/models/genre/<name>)")
    p.add_argument("--name", default=None, help="model name (default: --model)")
    p.add_argument("--eval-data", nargs="*", default=[], metavar="NAME=DIR",
                   help="extra test sets with the same genre folders (all their tracks are test tracks)")
    p.add_argument("--epochs", type=int, default=300, help="upper bound; early stopping usually ends sooner")
    p.add_argument("--patience", type=int, default=50, help="epochs without +1%% validation accuracy (paper: 50)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hop", type=float, default=1.5, help="seconds between training excerpts (3 s long)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this much wall time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", nargs="*", default=[], metavar="NAME=VALUE",
                   help="network sizes, e.g. kernels=64 hidden=256 (JSON values); saved in config.json, so load() "
                        "rebuilds them")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue from <run-dir>/last.pt")
    p.add_argument("--run-dir", default=None, help="resumable checkpoints (default runs/genre/<name>)")
    p.add_argument("--no-plots", action="store_true")
    return p.parse_args(argv)


def scaled_note(args) -> str:
    """Where this run departs from the paper's recipe (CPU budget), for the model card."""
    parts = []
    if args.patience != 50:
        parts.append(f"early-stopping patience {args.patience} epochs (paper: 50)")
    if args.max_minutes:
        parts.append(f"capped at {args.max_minutes:g} min of training")
    parts.append(f"at most {args.epochs} epochs; excerpts every {args.hop:g} s of each track")
    return "Scaled down from the paper for a shared 2-core CPU: " + "; ".join(parts) + "."


def main(argv=None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run = start_run(args.seed, args.threads)  # seed, threads, torchrun's process group, the device
    rank, world = run.rank, run.world
    name = args.name or args.model
    out = Path(args.out) if args.out else MODELS_DIR / "genre" / name
    run_dir = Path(args.run_dir) if args.run_dir else RUNS / name
    kind = INPUT_OF[args.model]

    labels, tracks = gdata.scan(args.data)
    train_t, val_t, test_t = gdata.split_tracks(tracks, seed=args.seed)
    if not val_t or not test_t:
        raise ValueError(f"{args.data} needs at least 3 tracks per genre for a 70/15/15 split by track.")
    log.info("%d genres %s; tracks train/val/test %d/%d/%d", len(labels), labels, len(train_t), len(val_t), len(test_t))
    t0 = time.time()
    Xtr, ytr, _ = gdata.build_set(train_t, kind, args.hop)
    Xva, yva, tva = gdata.build_set(val_t, kind, args.hop)
    Xte, yte, tte = gdata.build_set(test_t, kind, 3.0)  # test: non-overlapping excerpts, as at prediction time
    log.info("excerpts train/val/test %d/%d/%d (features %.0f s)", len(Xtr), len(Xva), len(Xte), time.time() - t0)

    size = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.size)}
    model = build(args.model, len(labels), **size).to(run.device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = plateau_scheduler(opt)  # × 0.2 when training loss stalls (1e-4 in 5 epochs)
    stopper = EarlyStopping(patience=args.patience, min_delta=0.01, mode="max")
    history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": [], "lr": []}
    best_state, start_epoch = None, 0
    ck = load_resume(run_dir, map_location=run.device) if args.resume else None
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        stopper.__dict__.update(ck["stopper"])
        history = ck["history"]
        best_state = ck["best"]
        start_epoch = ck["epoch"] + 1
        log.info("resumed at epoch %d", start_epoch)
    ddp = wrap(model, run)

    g = torch.Generator().manual_seed(args.seed)
    steps = math.ceil(len(Xtr) / args.batch_size / world)
    t_start, stopped = time.time(), "max epochs"
    report = progress_bar(name, enabled=run.is_main)
    for epoch in range(start_epoch, args.epochs):
        ddp.train()
        perm = torch.randperm(len(Xtr), generator=g)[rank::world]  # same permutation on every rank, sharded
        tot, correct, seen = 0.0, 0, 0
        for s in range(steps):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            if len(idx) == 0:
                break
            xb, yb = (torch.from_numpy(Xtr[idx.numpy()]).to(run.device),
                      torch.from_numpy(ytr[idx.numpy()]).to(run.device))
            logits = ddp(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # ReLU RNNs blow up without it
            opt.step()
            tot += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
        train_loss = tot / max(seen, 1)
        vl = predict_logits(model, Xva)
        val_loss = float(F.cross_entropy(torch.from_numpy(vl), torch.from_numpy(yva)))
        val_acc = float((vl.argmax(1) == yva).mean())
        sched.step(train_loss)
        for k_, v in zip(history, (train_loss, val_loss, correct / max(seen, 1), val_acc, opt.param_groups[0]["lr"])):
            history[k_].append(round(float(v), 5))
        stop = stopper.step(val_acc)
        if stopper.improved:
            best_state = {k_: v.detach().clone() for k_, v in model.state_dict().items()}
        report((epoch + 1) / args.epochs,
               f"loss {train_loss:.3f} val_acc {val_acc:.3f} lr {opt.param_groups[0]['lr']:.1e}")
        if run.is_main:
            save_resume(run_dir, model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(),
                        stopper=dict(stopper.__dict__), history=history, best=best_state, epoch=epoch)
        if stop:
            stopped = f"early stopping at epoch {epoch} (best val acc {stopper.best:.3f} at epoch {stopper.best_epoch})"
            break
        if args.max_minutes and time.time() - t_start > args.max_minutes * 60:
            stopped = f"time limit at epoch {epoch}"
            break
    train_s = time.time() - t_start
    if best_state is not None:
        model.load_state_dict(best_state)
    if not run.is_main:
        end_run(run)
        return {}

    metrics = {"test": scores(predict_logits(model, Xte), yte, tte, labels)}
    metrics.update(evaluate_sets(model, labels, kind, args.eval_data))
    summary = summarise(metrics)
    log.info("metrics %s", json.dumps(summary))
    config = {"kind": args.model, "arch": args.model, "input": kind, "labels": labels, "model": size,
              "params": n_params(model)}
    card = ModelCard(
        name=name, task="genre", architecture=f"{args.model} ({n_params(model):,} parameters)",
        training_data=f"{args.data}: {len(train_t)}/{len(val_t)}/{len(test_t)} tracks train/val/test "
                      f"({len(Xtr)}/{len(Xva)}/{len(Xte)} excerpts of 3 s)",
        command="python -m core.genre.train "
        + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        seed=args.seed, metrics=summary,
        config={**config, "epochs_run": len(history["train_loss"]), "stopped": stopped,
                "train_seconds": round(train_s, 1),
                "batch_size": args.batch_size, "lr": args.lr, "patience": args.patience, "hop_s": args.hop},
        notes="Input: "
              + ("the paper’s 12×29 min-max normalised band spectrogram (22,050 Hz)" if kind == "bands"
                 else "AST log-mel, 128 bins × 298 frames (16 kHz)") + ". "
              + scaled_note(args),
    )
    save_checkpoint(model, out, card, extra=config)
    (out / "report.json").write_text(json.dumps({"history": history, "metrics": metrics}, indent=1))
    if not args.no_plots:
        plots.save(plots.curves({"train loss": history["train_loss"], "val loss": history["val_loss"],
                                 "train acc": history["train_acc"], "val acc": history["val_acc"]},
                                title=f"{name}: loss and accuracy"), out / "curves.png", dpi=70)
        plots.save(plots.confusion(np.array(metrics["test"]["confusion"]), labels, normalize=True,
                                   title=f"{name}: test tracks (excerpts)"), out / "confusion.png", dpi=70)
    end_run(run)
    return metrics


if __name__ == "__main__":
    try:
        main()
    except ValueError as err:  # dataset problems: one clear line, no traceback
        sys.exit(f"error: {err}")
