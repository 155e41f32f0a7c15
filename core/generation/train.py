"""Train the generation models on music21's folk corpus (or a folder of MIDI files).

    python -m core.generation.train --model lstm   --steps 3000 --seed 0
    python -m core.generation.train --model gan    --steps 3000 --seed 0
    python -m core.generation.train --model markov
    python -m core.generation.train --model lstm --midi-dir ~/adl-piano-midi --out runs/adl-lstm

Weights, config, loss history and a model card go to ``--out``
(default ``assets/models/generation/<model>``). A plain PyTorch loop: under
``torchrun`` the model is wrapped in DistributedDataParallel and rank 0 saves.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from core.data.corpus import Tune, load_folk_corpus, load_midi_folder, load_styles, split_by_tune
from core.generation.baselines import MarkovChain
from core.generation.models import (
    BOS, EOS, GANConfig, GridCritic, GridGenerator, LSTMConfig, MelodyLSTM, N_CLASSES, event_token, events_to_grid,
)
from core.training import MODELS_DIR, ModelCard, Run, end_run, save_checkpoint, set_seed, start_run, wrap

log = logging.getLogger("core.generation.train")
UNK = "<unk>"
TRANSPOSITIONS = range(-3, 4)  # augmentation: every tune in seven keys around C


def transpose(events, k: int):
    return [(p + k if p >= 0 else p, d) for p, d in events]


#: Meters a tune can be asked for (its first time signature); others are "<meter:other>".
METERS = ("2/4", "3/4", "4/4", "6/8", "9/8", "12/8", "2/2", "3/8")


def condition_tokens(tune: Tune) -> list[str]:
    """The tokens after <bos> that tell the LSTM what to write: the tune's style (collection) and meter."""
    out = [f"<style:{tune.style}>"] if tune.style else []
    if tune.meter:
        out.append(f"<meter:{tune.meter if tune.meter in METERS else 'other'}>")
    return out


def build_vocab(tunes: list[Tune], min_count: int = 2) -> list[str]:
    counts = Counter(event_token(p, d) for t in tunes for k in TRANSPOSITIONS for p, d in transpose(t.events, k))
    conditions = sorted({c for t in tunes for c in condition_tokens(t)})
    return [BOS, EOS, UNK] + conditions + sorted(tok for tok, c in counts.items() if c >= min_count)


def encode(events, vocab_index: dict[str, int], conditions=()) -> list[int]:
    unk = vocab_index[UNK]
    return ([vocab_index[BOS]] + [vocab_index[c] for c in conditions if c in vocab_index]
            + [vocab_index.get(event_token(p, d), unk) for p, d in events] + [vocab_index[EOS]])


def token_stream(tunes: list[Tune], vocab: list[str], augment: bool) -> torch.Tensor:
    index = {t: i for i, t in enumerate(vocab)}
    shifts = TRANSPOSITIONS if augment else (0,)
    return torch.tensor([i for t in tunes for k in shifts
                         for i in encode(transpose(t.events, k), index, condition_tokens(t))])


def lstm_batch(stream: torch.Tensor, batch: int, seq_len: int, gen: torch.Generator):
    starts = torch.randint(0, len(stream) - seq_len - 1, (batch,), generator=gen)
    x = torch.stack([stream[s:s + seq_len] for s in starts])
    y = torch.stack([stream[s + 1:s + seq_len + 1] for s in starts])
    return x, y


def train_lstm(train: list[Tune], val: list[Tune], steps: int = 3000, batch: int = 64, seq_len: int = 64,
               lr: float = 2e-3, seed: int = 0, config: dict | None = None, log_every: int = 100,
               run: Run | None = None):
    """Next-event prediction with cross-entropy; returns the model and its loss history.

    ``run`` (from :func:`core.training.start_run`) gives the device and torchrun's workers; alone, the CPU.
    """
    run = run or Run(device=torch.device("cpu"))
    device = run.device
    set_seed(seed)
    vocab = build_vocab(train)
    model = MelodyLSTM(LSTMConfig(vocab=vocab, **(config or {}))).to(device)
    net = wrap(model, run)
    train_stream = token_stream(train, vocab, augment=True).to(device)
    val_stream = token_stream(val, vocab, augment=False).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed + run.rank)  # each worker draws its own batches
    history = {"train_loss": [], "val_loss": []}
    running = []
    for step in range(1, steps + 1):
        model.train()
        x, y = lstm_batch(train_stream, batch, seq_len, gen)
        logits, _ = net(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running.append(loss.item())
        if step % log_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                vx, vy = lstm_batch(val_stream, 128, seq_len, torch.Generator().manual_seed(1))
                vlogits, _ = model(vx)
                val_loss = F.cross_entropy(vlogits.reshape(-1, vlogits.shape[-1]), vy.reshape(-1)).item()
            history["train_loss"].append(float(np.mean(running)))
            history["val_loss"].append(val_loss)
            running = []
            if run.is_main:
                log.info("lstm step %d/%d train %.3f val %.3f", step, steps, history["train_loss"][-1], val_loss)
    return model, history


def gan_windows(tunes: list[Tune], steps: int = 64, hop: int = 16, augment: bool = True) -> torch.Tensor:
    """All 4-bar windows (hop: one bar) of every tune, in every augmentation key, as class indices."""
    shifts = TRANSPOSITIONS if augment else (0,)
    windows = []
    for t in tunes:
        for k in shifts:
            grid = events_to_grid(transpose(t.events, k))
            windows += [grid[i:i + steps] for i in range(0, len(grid) - steps + 1, hop)]
    return torch.tensor(windows, dtype=torch.long)


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.shape[0], 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def train_gan(train: list[Tune], steps: int = 3000, batch: int = 64, n_critic: int = 5, gp_weight: float = 10.0,
              lr: float = 1e-4, seed: int = 0, config: dict | None = None, log_every: int = 100,
              run: Run | None = None, augment: bool = True):
    """WGAN-GP: the critic sees one-hot real windows and the generator's softmax; returns G and history."""
    run = run or Run(device=torch.device("cpu"))
    device = run.device
    set_seed(seed)
    cfg = GANConfig(**(config or {}))
    G, D = GridGenerator(cfg).to(device), GridCritic(cfg).to(device)
    G_net, D_net = wrap(G, run), wrap(D, run)
    data = gan_windows(train, cfg.steps, augment=augment).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.9))
    gen = torch.Generator().manual_seed(seed + run.rank)
    history = {"generator_loss": [], "discriminator_loss": []}
    g_run, d_run = [], []
    for step in range(1, steps + 1):
        for _ in range(n_critic):
            idx = torch.randint(0, len(data), (batch,), generator=gen)
            real = F.one_hot(data[idx], N_CLASSES).float().permute(0, 2, 1)
            with torch.no_grad():
                fake = torch.softmax(G_net(torch.randn(batch, cfg.latent, device=device)), dim=1)
            d_loss = D_net(fake).mean() - D_net(real).mean() + gp_weight * gradient_penalty(D_net, real, fake)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        fake = torch.softmax(G_net(torch.randn(batch, cfg.latent, device=device)), dim=1)
        g_loss = -D_net(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        g_run.append(g_loss.item())
        d_run.append(d_loss.item())
        if step % log_every == 0 or step == steps:
            history["generator_loss"].append(float(np.mean(g_run)))
            history["discriminator_loss"].append(float(np.mean(d_run)))
            g_run, d_run = [], []
            log.info("gan step %d/%d G %.3f D %.3f", step, steps, history["generator_loss"][-1],
                     history["discriminator_loss"][-1])
    return G.eval(), history


def fit_markov(train: list[Tune]) -> MarkovChain:
    vocab = build_vocab(train)
    index = {t: i for i, t in enumerate(vocab)}
    return MarkovChain.fit([encode(t.events, index) for t in train], vocab)


# Written into each card: where the paper's set-up was scaled down or changed, and known weaknesses.
CARD_NOTES = {  # why each model is built as it is; the figures are in the card's metrics, written by evaluate
    'lstm': 'Scaled from the paper (Keras LSTM on Nottingham + ADL piano MIDI, 4 epochs) to fit 2 shared CPU cores: '
            'monophonic folk melodies instead of piano MIDI (no chord tokens): Essen, O\'Neill 1850 and Ryan\'s Mammoth '
            'from music21, each tune starting with its style and meter tokens (what the tab\'s Style and Meter choose); '
            'a 2-layer LSTM of 256 units, 3,000 steps of batch 64 on one thread (folk-rnn: 3 x 512 on 23k tunes). It '
            'over-uses the shortest notes and under-uses long ones. Sampling: a tune may end (its end token) after 32 '
            'quarters and is then played again from its start (the Markov chain is sampled the same way).',
    'gan': "The paper's GAN is a Keras note-list GAN; here a WGAN-GP over 4-bar 16th-note grids (stable on discrete "
           "sequences), trained 1,500 generator steps x 5 critic steps on one thread instead of to convergence. It "
           "learns rhythm; its pitch content stays close to random notes (see the metrics). Sampling gives it folk-tune "
           "form: a piece is AABB, each letter a 4-bar section written from its own latent, a repeated letter played "
           "again with a fresh last bar (a second ending); the form is imposed when sampling, not learned.",
    'markov': "Baseline: first-order Markov chain over the LSTM's (pitch, duration) tokens, bigram counts from the "
              "training split; an unseen context backs off to unigram counts.",
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("lstm", "gan", "markov"), required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--midi-dir", help="train on this folder of MIDI files instead of the folk corpus")
    parser.add_argument("--styles", help="LSTM: train on these folk styles, conditioned on style and meter "
                                         "(e.g. essen,irish,american,nottingham)")
    parser.add_argument("--out", help="output folder (default assets/models/generation/<model>)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--no-augment", action="store_true",
                        help="GAN: train on the tunes in their normalised key only (no ±3 semitone copies)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run = start_run(args.seed, args.threads)  # seed, threads, torchrun's process group, the device

    if args.midi_dir:
        tunes = load_midi_folder(args.midi_dir)
        data_desc = f"melodies of the MIDI files in {args.midi_dir}"
        train, val = split_by_tune(tunes)
    elif args.styles:
        # every style split on its own, so the Essen held-out tunes are the same whatever else is trained on
        styles = [s.strip() for s in args.styles.split(",")]
        train, val = [], []
        for style in styles:
            a, b = split_by_tune(load_styles([style]))
            train, val = train + a, val + b
        tunes = train + val
        data_desc = (f"music21 folk collections {', '.join(styles)} (essen: Essen ballads, children's songs, Erk, "
                     "Altdeutsch; irish: O'Neill 1850; american: Ryan's Mammoth; nottingham: the Nottingham dataset): "
                     "melodies transposed to C, x7 keys; each tune starts with its style and meter tokens")
    else:
        tunes = load_folk_corpus()
        data_desc = "music21 essenFolksong (ballads, children's songs, Erk, Altdeutsch): melodies transposed to C, x7 keys"
        train, val = split_by_tune(tunes)
    if len(tunes) < 10:
        sys.exit(f"error: only {len(tunes)} usable tunes found; need at least 10.")
    log.info("%d training tunes, %d held out", len(train), len(val))
    out = Path(args.out or MODELS_DIR / "generation" / args.model)
    command = "python -m core.generation.train " + " ".join(sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    if args.model == "lstm":
        model, history = train_lstm(train, val, steps=args.steps, batch=args.batch, seed=args.seed, run=run)
        config, arch = model.config_dict(), "Embedding 64 → 2-layer LSTM 256 (dropout 0.2) → linear over event tokens"
    elif args.model == "gan":
        model, history = train_gan(train, steps=args.steps, batch=args.batch, seed=args.seed, run=run,
                                   augment=not args.no_augment)
        config, arch = model.config_dict(), "WGAN-GP: conv-transpose generator z(100) → 64 steps × 50 classes (width 128); 1-D conv critic"
    else:
        chain = fit_markov(train)
        model, history, config, arch = None, {}, {"kind": "markov", "vocab": chain.vocab}, "first-order Markov chain"
    if not run.is_main:
        end_run(run)
        return
    out.mkdir(parents=True, exist_ok=True)
    card = ModelCard(
        name=f"generation-{args.model}", task="melody generation", architecture=arch, training_data=data_desc,
        command=command, seed=args.seed, notes=CARD_NOTES.get(args.model, "") if not args.midi_dir else "",
        config={"steps": args.steps, "batch": args.batch, "train_tunes": len(train), "held_out_tunes": len(val),
                "train_seconds": round(time.time() - t0, 1)},
    )
    if model is not None:
        save_checkpoint(model, out, extra=config)
    else:
        (out / "config.json").write_text(json.dumps(config))
        np.savez_compressed(out / "transitions.npz", counts=chain.counts.astype(np.uint32))
    (out / "history.json").write_text(json.dumps(history))
    from dataclasses import asdict

    (out / "card.json").write_text(json.dumps(asdict(card), indent=2))
    log.info("saved %s in %.0f s", out, time.time() - t0)
    end_run(run)


if __name__ == "__main__":
    main()
