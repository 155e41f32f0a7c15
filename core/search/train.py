"""Train the search encoder without labels: BYOL + autoencoder on log-mels of any folder of tracks.

    python -m core.search.train --data .cache/search/train            # the bundled recipe
    python -m core.search.train --data ~/my_tracks --out my-encoder --iters 1000 --batch 256

The paper found a small representative set better than a large unrepresentative
one: train on music like the tracks you will search. Plain PyTorch; under
``torchrun`` the model is wrapped in DistributedDataParallel and rank 0 saves.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from core import features, registry
from core.audio import AUDIO_EXTENSIONS, load_audio
from core.search import spaces
from core.search.models import BYOLAE, EncoderConfig
from core.training import (
    MODELS_DIR,
    ModelCard,
    Run,
    check_cancel,
    end_run,
    progress_bar,
    save_checkpoint,
    set_seed,
    start_run,
    wrap,
)

FLOOR = spaces.normalise_mel(np.array(-80.0))  # a silent bin after normalisation


def load_mels(folder, hpss: bool = True, cache: Path | None = None) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(normalised log-mel, log-mel of the harmonic part or None) for every audio file in ``folder``."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ValueError(f"No audio files in {folder}.")
    if cache is not None and cache.exists():
        data = np.load(cache, allow_pickle=True)
        if list(data["files"]) == [str(f) for f in files] and bool(data["hpss"]) == hpss:
            return list(data["mels"])
    out = []
    for f in files:
        y, sr = load_audio(f, sr=spaces.SR)
        harmonic = spaces.mel_input(features.hpss(y)[0], sr) if hpss else None
        out.append((spaces.mel_input(y, sr), harmonic))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        np.savez(cache, files=[str(f) for f in files], hpss=hpss, mels=arr)
    return out


def crops(mels, batch: int, frames: int, gen: torch.Generator):
    """``batch`` random (clean, harmonic) crops of ``frames`` frames, tracks drawn by length."""
    lengths = np.array([m.shape[1] for m, _ in mels], dtype=np.float64)
    track = torch.multinomial(torch.from_numpy(lengths / lengths.sum()), batch, replacement=True, generator=gen)
    clean, harm = [], []
    for i in track.tolist():
        m, h = mels[i]
        a = int(torch.randint(0, m.shape[1] - frames + 1, (1,), generator=gen))
        clean.append(m[:, a:a + frames])
        harm.append((h if h is not None else m)[:, a:a + frames])
    return torch.from_numpy(np.stack(clean)), torch.from_numpy(np.stack(harm))


def augment(x: torch.Tensor, gen: torch.Generator, noise: float = 0.3, drop: float = 0.2,
            shift: int = 3) -> torch.Tensor:
    """The paper's augmentations: Gaussian noise (σ 0.3), 20 % of mel bins removed, transposition by a few bins."""
    b, n_mels, t = x.shape
    x = x + noise * torch.randn(x.shape, generator=gen)
    keep = torch.rand(b, n_mels, 1, generator=gen) >= drop
    x = torch.where(keep, x, torch.full_like(x, float(FLOOR)))
    out = torch.full_like(x, float(FLOOR))
    for i, s in enumerate(torch.randint(-shift, shift + 1, (b,), generator=gen).tolist()):
        if s >= 0:
            out[i, s:] = x[i, : n_mels - s]
        else:
            out[i, :s] = x[i, -s:]
    return out


def mix_in(x: torch.Tensor, other: torch.Tensor, gen: torch.Generator, p: float = 0.5,
           level_db: tuple[float, float] = (-20.0, -6.0)) -> torch.Tensor:
    """Add another crop under ``x`` (power sum, ``level_db`` lower) with probability ``p``: a changing background.

    In a mix, the sound the user marked keeps playing while other parts come and go;
    a view of the same frames over another background teaches the encoder to look past it.
    """
    db, other_db = spaces.denormalise_mel(x), spaces.denormalise_mel(other)
    g = torch.empty(len(x), 1, 1).uniform_(*level_db, generator=gen)
    k = math.log(10.0) / 10.0
    mixed = torch.logaddexp(db * k, (other_db + g) * k) / k
    use = torch.rand(len(x), 1, 1, generator=gen) < p
    return torch.where(use, spaces.normalise_mel(mixed.clamp(max=0.0)), x)


def gain(x: torch.Tensor, gen: torch.Generator, db: float = 6.0) -> torch.Tensor:
    """A random level change of ±``db``: the same sample is mixed louder or softer each time."""
    return x + torch.empty(len(x), 1, 1).uniform_(-db, db, generator=gen) / 20.0


def train(mels, cfg: EncoderConfig, iters: int = 1000, batch: int = 256, frames: int = 64, lr: float = 1e-3,
          seed: int = 0, hpss: bool = True, shift: int = 3, losses: str = "byol+ae",
          mix: float = 0.0, gain_db: float = 0.0, log_every: int = 50, progress=None, cancel=None,
          run: Run | None = None):
    """Train for ``iters`` steps; returns (model, history of per-step losses).

    ``losses`` is "byol+ae" (the paper's choice), "byol" or "ae" (its Fig. 3 ablation);
    ``shift`` 0 turns the transposition augmentation off.
    ``mix`` (probability) and ``gain_db`` add two augmentations the paper does not use:
    another crop mixed under each view, and a random level change.
    ``run`` (from :func:`core.training.start_run`) gives the device and torchrun's workers; without one it
    trains alone on the registry's device.
    """
    run = run or Run(device=registry.device())
    rank, device = run.rank, run.device
    set_seed(seed)
    model = BYOLAE(cfg).to(device)
    net = wrap(model, run)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed + rank)  # each rank draws its own crops
    history = {"byol": [], "ae": [], "total": []}
    start = time.time()
    for it in range(1, iters + 1):
        clean, harm = crops(mels, batch, frames, gen)
        # HPSS (the paper's fourth augmentation): half the second views keep only the harmonic part
        use_h = (torch.rand(batch, 1, 1, generator=gen) < 0.5) if hpss else torch.zeros(batch, 1, 1, dtype=torch.bool)
        v1, v2 = clean, torch.where(use_h, harm, clean)
        if mix:
            v1, v2 = (mix_in(v1, crops(mels, batch, frames, gen)[0], gen, mix),
                      mix_in(v2, crops(mels, batch, frames, gen)[0], gen, mix))
        if gain_db:
            v1, v2 = gain(v1, gen, gain_db), gain(v2, gen, gain_db)
        x, x_aug = augment(v1, gen, shift=shift), augment(v2, gen, shift=shift)
        byol, ae = net(x.to(device), x_aug.to(device), clean.to(device))
        loss = ("byol" in losses) * byol + ("ae" in losses) * ae
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.update_target()
        for k, v in (("byol", byol), ("ae", ae), ("total", loss)):
            history[k].append(v.item())
        if progress and rank == 0 and (it % log_every == 0 or it == 1):
            progress(it / iters, f"byol {np.mean(history['byol'][-log_every:]):.4f}  "
                                 f"ae {np.mean(history['ae'][-log_every:]):.4f}  {time.time() - start:.0f} s")
        check_cancel(cancel)
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".cache/search/train", help="folder of unlabelled tracks")
    parser.add_argument("--out", default=spaces.DEFAULT_MODEL, help="name under assets/models/search/ or a path")
    parser.add_argument("--iters", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--frames", type=int, default=64, help="crop length in frames (43 per second)")
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--no-skip", action="store_true", help="the paper's exact encoder: no skip from the input")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--no-hpss", action="store_true", help="skip the HPSS augmentation (faster to prepare)")
    parser.add_argument("--losses", default="byol+ae", choices=["byol+ae", "byol", "ae"])
    parser.add_argument("--shift", type=int, default=3, help="transposition range in mel bins (0: off)")
    parser.add_argument("--mix", type=float, default=0.0, help="probability of mixing another crop under a view")
    parser.add_argument("--gain-db", type=float, default=0.0, help="random level change of ± this many dB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--notes", default="")
    args = parser.parse_args(argv)
    run = start_run(args.seed, args.threads)  # seed, threads, torchrun's process group, the device
    hpss = not args.no_hpss
    t0 = time.time()
    mels = load_mels(args.data, hpss, cache=Path(".cache/search") / f"mels_{Path(args.data).name}.npz")
    minutes = sum(m.shape[1] for m, _ in mels) / spaces.FRAME_RATE / 60
    print(f"{len(mels)} tracks, {minutes:.1f} min of audio, features in {time.time() - t0:.0f} s")
    cfg = EncoderConfig(channels=args.channels, residual=not args.no_skip)
    t0 = time.time()
    model, history = train(mels, cfg, args.iters, args.batch, args.frames, args.lr, args.seed, hpss, args.shift,
                           args.losses, mix=args.mix, gain_db=args.gain_db, run=run,
                           progress=progress_bar("encoder", enabled=run.is_main))
    seconds = time.time() - t0
    if not run.is_main:
        end_run(run)
        return
    out = Path(args.out) if "/" in args.out else MODELS_DIR / "search" / args.out
    n_params = sum(p.numel() for p in model.encoder.parameters())
    tail = lambda k: round(float(np.mean(history[k][-50:])), 4)  # noqa: E731
    card = ModelCard(
        name=f"search-{out.name}",
        task="feature extractor for loop and sample search (no labels)",
        architecture=(f"encoder: {cfg.layers} × Conv1d(k={cfg.kernel}, {cfg.channels} ch) over time, 128 mel bins in, "
                      f"BatchNorm+ReLU between, {n_params:,} parameters; training-only heads: projector, predictor "
                      f"and decoder of {cfg.head_layers} conv layers; EMA target (α {cfg.ema})"),
        training_data=f"{args.data}: {len(mels)} unlabelled tracks, {minutes:.1f} minutes",
        command="python -m core.search.train " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
        seed=args.seed,
        metrics={"final_byol_loss": tail("byol"), "final_ae_loss": tail("ae"),
                 "first_byol_loss": round(history["byol"][0], 4), "first_ae_loss": round(history["ae"][0], 4),
                 "train_seconds": round(seconds)},
        config={"model": asdict(cfg), "iters": args.iters, "batch": args.batch, "frames": args.frames, "lr": args.lr,
                "hpss": hpss, "losses": args.losses, "shift": args.shift, "mix": args.mix, "gain_db": args.gain_db,
                "augmentations": "noise σ 0.3, drop 20% mel bins"
                + (f", transpose ±{args.shift} bins" if args.shift else "")
                + (", HPSS harmonic view (p 0.5)" if hpss else "")
                + (f", another crop mixed under (p {args.mix})" if args.mix else "")
                + (f", level ±{args.gain_db} dB" if args.gain_db else "")},
        notes=args.notes,
    )
    save_checkpoint(model.encoder, out, card, extra={"kind": "byol-ae", **asdict(cfg)})  # what load() rebuilds
    (out / "history.json").write_text(json.dumps({k: [round(v, 5) for v in vs] for k, vs in history.items()}))
    print(f"saved {out} ({seconds:.0f} s)")
    end_run(run)


if __name__ == "__main__":
    main()
