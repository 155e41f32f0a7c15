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
import copy
import json
import logging
import math
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
    BAR,
    BOS,
    EOS,
    CriticConfig,
    GumbelRollout,
    LSTMConfig,
    MelodyLSTM,
    TuneCritic,
    cache_mixture_nll,
    event_token,
)
from core.training import MODELS_DIR, ModelCard, Run, end_run, save_checkpoint, set_seed, start_run, wrap

log = logging.getLogger("core.generation.train")
UNK = "<unk>"
TRANSPOSITIONS = range(-3, 4)  # augmentation: every tune in seven keys around C


def transpose(events, k: int):
    return [(p + k if p >= 0 else p, d) for p, d in events]


#: Meters a tune can be asked for (its first time signature): the dance meters and Essen's half- and whole-note
#: ones (a sixth of its tunes: 4/2, 3/2, 6/4, 4/1, 6/2, 3/1), which pooled as "other" left the LSTM writing their
#: long notes as a third of what they are. Others are "<meter:other>"; a tune without one is "<meter:free>".
METERS = ("2/4", "3/4", "4/4", "6/8", "9/8", "12/8", "2/2", "3/8", "4/2", "3/2", "6/4", "4/1", "6/2", "3/1")


def meter_condition(meter: str) -> str:
    """The meter a tune's meter token names: one of ``METERS``, "free" for a tune without a time signature, else
    "other"."""
    return meter if meter in METERS else "other" if meter else "free"


def condition_tokens(tune: Tune, shift: int = 0) -> list[str]:
    """The tokens after <bos> that tell the LSTM what to write: the tune's style (collection), meter and, for the
    folk collections (all moved to C), the key signature of the copy transposed by ``shift`` semitones."""
    out = [f"<style:{tune.style}>"] if tune.style else []
    if tune.meter or tune.style:  # a folk tune without a time signature is in free meter; a MIDI melody has none
        out.append(f"<meter:{meter_condition(tune.meter)}>")
    if tune.style:
        out.append(key_token(shift))
    return out


def key_token(shift: int) -> str:
    """The key-signature token of a tune moved ``shift`` semitones from C ("<key:D>" for +2)."""
    from core.key import PITCH_CLASSES

    return f"<key:{PITCH_CLASSES[shift % 12]}>"


def build_vocab(tunes: list[Tune], min_count: int = 2) -> list[str]:
    counts = Counter(event_token(p, d) for t in tunes for k in TRANSPOSITIONS for p, d in transpose(t.events, k))
    conditions = sorted({c for t in tunes for k in TRANSPOSITIONS for c in condition_tokens(t, k)})
    bars = [BAR] if any(t.bar for t in tunes) else []
    return [BOS, EOS, UNK] + conditions + bars + sorted(tok for tok, c in counts.items() if c >= min_count)


def with_bars(events, bar: float, pickup: float = 0.0) -> list:
    """``events`` with a bar line (``BAR``) after each event that reaches or crosses one: the first after
    ``pickup`` quarters (or one bar), then every ``bar``. Without a bar length, the events alone."""
    if not bar:
        return list(events)
    out, t, line = [], 0.0, pickup or bar
    for event in events:
        out.append(event)
        t += event[1]
        if t >= line - 1e-6:
            out.append(BAR)
            while line <= t + 1e-6:
                line += bar
    if out and out[-1] == BAR:
        out.pop()  # the tune's end is its own bar line
    return out


def encode(events, vocab_index: dict[str, int], conditions=()) -> list[int]:
    """<bos>, the condition tokens, each (pitch, duration) event (or bar line), <eos> → token ids."""
    unk = vocab_index[UNK]
    return ([vocab_index[BOS]] + [vocab_index[c] for c in conditions if c in vocab_index]
            + [vocab_index[e] if e == BAR else vocab_index.get(event_token(*e), unk) for e in events]
            + [vocab_index[EOS]])


def tune_sequences(tunes: list[Tune], vocab: list[str], augment: bool, max_len: int = 256) -> list[list[int]]:
    """Every tune (in every augmentation key) as its whole token sequence from <bos>, cut at ``max_len``."""
    index = {t: i for i, t in enumerate(vocab)}
    shifts = TRANSPOSITIONS if augment else (0,)
    bars = BAR in index
    return [encode(with_bars(transpose(t.events, k), t.bar if bars else 0.0, t.pickup), index,
                   condition_tokens(t, k))[:max_len] for t in tunes for k in shifts]


def length_batches(sequences: list[list[int]], batch: int, gen: torch.Generator):
    """Endless batches of whole tunes of similar length (little padding), in a fresh order every epoch."""
    while True:
        noise = torch.rand(len(sequences), generator=gen) * 16
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]) + float(noise[i]))
        chunks = [order[i:i + batch] for i in range(0, len(order), batch)]
        for j in torch.randperm(len(chunks), generator=gen).tolist():
            yield chunks[j]


def pad_batch(sequences: list[list[int]], chosen: list[int], pad: int):
    """Inputs (batch, time) and next-token targets, ``IGNORE`` after each tune's end."""
    longest = max(len(sequences[i]) for i in chosen) - 1
    x = torch.full((len(chosen), longest), pad, dtype=torch.long)
    y = torch.full((len(chosen), longest), IGNORE, dtype=torch.long)
    for row, i in enumerate(chosen):
        s = torch.tensor(sequences[i])
        x[row, :len(s) - 1], y[row, :len(s) - 1] = s[:-1], s[1:]
    return x, y


IGNORE = -100  # F.cross_entropy's ignore_index


def sequence_loss(model, sequences: list[list[int]], batch: int = 64) -> float:
    """Mean next-token cross-entropy over whole tunes (no dropout)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(sequences), batch):
            x, y = pad_batch(sequences, list(range(start, min(start + batch, len(sequences)))), pad=0)
            logits, _ = model(x.to(next(model.parameters()).device))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1).to(logits.device),
                                   ignore_index=IGNORE, reduction="sum")
            total, count = total + loss.item(), count + int((y != IGNORE).sum())
    return total / max(count, 1)


#: The neural cache's grid (``fit_cache``): theta sharpens the state likeness, lambda is the cache's weight.
CACHE_THETAS = (0.05, 0.1, 0.2, 0.4, 0.8)
CACHE_LAMBDAS = (0.0, 0.05, 0.1, 0.2, 0.3)


def fit_cache(model: MelodyLSTM, sequences: list[list[int]], thetas=CACHE_THETAS, lambdas=CACHE_LAMBDAS,
              batch: int = 32, apply: bool = True) -> dict:
    """Choose the neural cache's (theta, lambda) by the mean negative log-likelihood of whole ``sequences``
    (Grave et al., 2017, fit theirs on validation perplexity too), and set them in ``model.config`` when
    ``apply``. Returns {"cache_theta", "cache_lambda", "nll_per_token": {"theta,lambda": nll}}."""
    model.eval()
    totals = {(t, lam): 0.0 for t in thetas for lam in lambdas}
    count = 0
    with torch.no_grad():
        for start in range(0, len(sequences), batch):
            x, y = pad_batch(sequences, list(range(start, min(start + batch, len(sequences)))), pad=0)
            logits, _, hidden = model(x, return_hidden=True)
            for key in totals:
                nll, n = cache_mixture_nll(logits, hidden, y, *key, ignore=IGNORE)
                totals[key] += nll
            count += n
    best = min(totals, key=totals.get)
    best = best if best[1] > 0 else (0.0, 0.0)
    if apply:
        model.config.cache_theta, model.config.cache_lambda = best
    return {"cache_theta": best[0], "cache_lambda": best[1], "applied": apply,
            "nll_per_token": {f"{t:g},{lam:g}": round(v / count, 4) for (t, lam), v in totals.items()}}


def train_lstm(train: list[Tune], val: list[Tune], steps: int = 3000, batch: int = 64, max_len: int = 256,
               lr: float = 2e-3, seed: int = 0, config: dict | None = None, log_every: int = 100,
               run: Run | None = None, init: MelodyLSTM | None = None):
    """Next-event prediction with cross-entropy over whole tunes, each from its <bos> and condition tokens as
    sampling starts (windows cut from a stream of tunes never show the network a tune's start and length, and
    its samples drift once they outrun the window). Keeps the weights of the best validation loss; returns the
    model and its loss history.

    ``run`` (from :func:`core.training.start_run`) gives the device and torchrun's workers; alone, the CPU.
    ``init``: a trained LSTM over the same vocabulary whose weights this one starts from (what it lacks, such as
    the pointer, starts as it would).
    """
    run = run or Run(device=torch.device("cpu"))
    device = run.device
    set_seed(seed)
    vocab = build_vocab(train)
    model = MelodyLSTM(LSTMConfig(vocab=vocab, **(config or {})))
    if init is not None:
        extend(model, init)
    model = model.to(device)
    net = wrap(model, run)
    train_seqs = tune_sequences(train, vocab, augment=True, max_len=max_len)
    val_seqs = tune_sequences(val, vocab, augment=False, max_len=max_len)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed + run.rank)  # each worker draws its own batches
    batches = length_batches(train_seqs, batch, gen)
    history = {"step": [], "train_loss": [], "val_loss": []}
    running, best = [], (math.inf, None)
    for step in range(1, steps + 1):
        model.train()
        x, y = pad_batch(train_seqs, next(batches), pad=0)
        logits, _ = net(x.to(device))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1).to(device), ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running.append(loss.item())
        if step % log_every == 0 or step == steps:
            val_loss = sequence_loss(model, val_seqs)
            history["step"].append(step)
            history["train_loss"].append(float(np.mean(running)))
            history["val_loss"].append(val_loss)
            running = []
            if val_loss < best[0]:
                best = (val_loss, copy.deepcopy(model.state_dict()))
            if run.is_main:
                log.info("lstm step %d/%d train %.3f val %.3f", step, steps, history["train_loss"][-1], val_loss)
    model.load_state_dict(best[1])
    return model, history


def extend(model: MelodyLSTM, init: MelodyLSTM) -> None:
    """Copy ``init``'s weights into ``model``, which may have more (the pointer) and a grown vocabulary: the
    embedding and output rows of every token both know are copied by name, a new token (a new meter) keeps its
    fresh rows. Same sizes; tokens ``init`` has and ``model`` lacks would be forgotten, so they are refused."""
    old, new = init.config.vocab, model.config.vocab
    lost = sorted(set(old) - set(new))
    if lost:
        raise ValueError("The LSTM to start from was trained on another vocabulary (other tunes or styles): "
                         f"this one lacks {', '.join(lost[:5])}{' …' if len(lost) > 5 else ''}.")
    state = init.state_dict()
    if old != new:
        rows = torch.tensor([new.index(t) for t in old])
        for name in ("embed.weight", "head.weight", "head.bias"):
            grown = model.state_dict()[name].clone()
            grown[rows] = state[name]
            state[name] = grown
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected:
        raise ValueError(f"The LSTM to start from has weights this one lacks: {', '.join(unexpected)}.")
    log.info("started from a trained LSTM; new weights: %s; new tokens: %s", ", ".join(missing) or "none",
             ", ".join(t for t in new if t not in old) or "none")


def gradient_penalty(critic, real, fake, mask):
    alpha = torch.rand(real.shape[0], 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed, mask).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def real_tunes(sequences: list[list[int]], chosen: list[int], prefix: int, length: int, vocab: int):
    """Real tunes as the critic sees them: one-hot (batch, prefix + length, vocab), cut or padded, and their mask."""
    x = torch.zeros(len(chosen), prefix + length, vocab)
    mask = torch.zeros(len(chosen), prefix + length)
    for row, i in enumerate(chosen):
        s = torch.tensor(sequences[i][:prefix + length])
        x[row, torch.arange(len(s)), s] = 1.0
        mask[row, :len(s)] = 1.0
    return x, mask


def train_gan(train: list[Tune], generator: MelodyLSTM, steps: int = 150, batch: int = 32, length: int = 96,
              n_critic: int = 2, critic_warmup: int = 200, gp_weight: float = 10.0, lr_g: float = 1e-5,
              lr_d: float = 3e-4, seed: int = 0, config: dict | None = None, log_every: int = 20,
              run: Run | None = None, mle_weight: float = 0.0):
    """RelGAN's recipe (Nie et al., 2019) with a WGAN-GP critic: ``generator`` (an LSTM pretrained by maximum
    likelihood, the bundled one) writes whole tunes after a real tune's condition tokens, its draws relaxed by
    straight-through Gumbel-softmax, and a ``TuneCritic`` scores them against real tunes with the same
    conditions. The critic first trains alone (``critic_warmup`` steps) so the generator's first gradients mean
    something. ``mle_weight``: the weight of the generator's cross-entropy on real tunes beside the critic's
    score (the maximum-likelihood term RelGAN-style text GANs keep so that the adversarial phase does not wander
    from the data's note statistics). Returns the generator and the loss history.
    """
    run = run or Run(device=torch.device("cpu"))
    device = run.device
    set_seed(seed)
    vocab = generator.config.vocab
    index = {t: i for i, t in enumerate(vocab)}
    G = generator.to(device)
    D = TuneCritic(CriticConfig(vocab=len(vocab), **(config or {}))).to(device)
    rollout = GumbelRollout(G, banned=[i for i, t in enumerate(vocab) if t.startswith("<") and t != EOS],
                            eos=index[EOS]).to(device)
    G_net, D_net = wrap(rollout, run), wrap(D, run)
    sequences = tune_sequences(train, vocab, augment=True, max_len=10_000)
    # a batch shares its number of condition tokens, so that the rollouts start together
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(train):
        for k in range(len(TRANSPOSITIONS)):
            groups.setdefault(1 + len(condition_tokens(t)), []).append(i * len(TRANSPOSITIONS) + k)
    sizes = torch.tensor([len(v) for v in groups.values()], dtype=torch.float)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.9))
    gen = torch.Generator().manual_seed(seed + run.rank)

    def draw_real():
        prefix = list(groups)[int(torch.multinomial(sizes, 1, generator=gen))]
        members = groups[prefix]
        chosen = [members[int(j)] for j in torch.randint(0, len(members), (batch,), generator=gen)]
        real, mask = real_tunes(sequences, chosen, prefix, length, len(vocab))
        return real.to(device), mask.to(device), torch.tensor([sequences[i][:prefix] for i in chosen], device=device)

    def critic_step():
        real, real_mask, prefix = draw_real()
        with torch.no_grad():
            fake, fake_mask = G_net(prefix, length)
        mask = torch.maximum(real_mask, fake_mask)
        distance = D_net(real, real_mask).mean() - D_net(fake, fake_mask).mean()  # the critic's Wasserstein estimate
        loss = -distance + gp_weight * gradient_penalty(D_net, real, fake, mask)
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        return loss.item(), distance.item()

    G.train()  # dropout on, as in pretraining
    for _ in range(critic_warmup):
        critic_step()
    history = {"step": [], "generator_loss": [], "discriminator_loss": [], "wasserstein_estimate": [],
               "generator_nll": []}
    g_run, d_run, w_run, m_run = [], [], [], []
    for step in range(1, steps + 1):
        for _ in range(n_critic):
            loss, distance = critic_step()
            d_run.append(loss)
            w_run.append(distance)
        real, real_mask, prefix = draw_real()
        if mle_weight:
            fake, fake_mask, logits = G_net(prefix, length, teacher=real[:, :-1])
            # one-hot targets as class probabilities; a padding row is all zeros, so it adds nothing
            nll = F.cross_entropy(logits.transpose(1, 2), real[:, 1:].transpose(1, 2), reduction="none")
            mle = (nll * real_mask[:, 1:]).sum() / real_mask[:, 1:].sum()
        else:
            (fake, fake_mask), mle = G_net(prefix, length), torch.zeros((), device=device)
        g_loss = -D_net(fake, fake_mask).mean() + mle_weight * mle
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        torch.nn.utils.clip_grad_norm_(G.parameters(), 1.0)
        opt_g.step()
        g_run.append(g_loss.item())
        m_run.append(mle.item())
        if step % log_every == 0 or step == steps:
            history["step"].append(step)
            history["generator_loss"].append(float(np.mean(g_run)))
            history["discriminator_loss"].append(float(np.mean(d_run)))
            history["wasserstein_estimate"].append(float(np.mean(w_run)))
            history["generator_nll"].append(float(np.mean(m_run)))
            g_run, d_run, w_run, m_run = [], [], [], []
            if run.is_main:
                log.info("gan step %d/%d G %.3f D %.3f W %.3f NLL %.3f", step, steps, history["generator_loss"][-1],
                         history["discriminator_loss"][-1], history["wasserstein_estimate"][-1],
                         history["generator_nll"][-1])
    return G.eval(), history


def fit_markov(train: list[Tune]) -> MarkovChain:
    vocab = build_vocab(train)
    index = {t: i for i, t in enumerate(vocab)}
    return MarkovChain.fit([encode(t.events, index) for t in train], vocab)


# Written into each card: where the paper's set-up was scaled down or changed, and known weaknesses.
CARD_NOTES = {  # why each model is built as it is; the figures are in the card's metrics, written by evaluate
    'lstm': 'Scaled from the paper (Keras LSTM on Nottingham + ADL piano MIDI, 4 epochs) to fit 2 shared CPU cores: '
            'monophonic folk melodies instead of piano MIDI (no chord tokens): Essen, O\'Neill 1850 and Ryan\'s '
            'Mammoth from music21, each tune starting with its style, meter and key-signature tokens (what the tab\'s '
            'Style, Meter and Key choose) and written with its bar lines, as folk-rnn\'s tokens are; a 2-layer LSTM of '
            '384 units (folk-rnn: 3 x 512 on 23k tunes; no GPU was lent), trained on whole tunes from their first '
            'token (as it is sampled), 2,400 steps of 64 tunes on one CPU thread, keeping the weights of the best loss '
            'on the validation tunes (5% of the training split); then, when Essen\'s half- and whole-note meters and '
            'its tunes without a time signature got their own meter tokens, 800 more steps (peak rate 1e-3, two '
            'threads) from those weights (the LSTM bundled until commit 31dfce2), '
            'every known token\'s rows copied by name and the new tokens\' rows fresh (--init). On top of the LSTM, a '
            'pointer sentinel mixture (Merity et al., 2017): each next token may be copied from what followed an '
            'earlier moment of the same tune, a learned gate choosing between copying and the vocabulary, so that the '
            'tune answers its own phrases (without it the LSTM\'s pieces repeated almost nothing within a tune). The '
            'neural cache (Grave et al., 2017) is fitted on validation log-likelihood too and reported; with the '
            'pointer it adds nothing. A tune may end (its end token) at 90% of the length asked for (and 32 quarters '
            'at least); the rest is its start played again (the Markov chain is sampled the same way).',
    'gan': "The paper's GAN is a Keras note-list GAN. Here the recipe of RelGAN (Nie et al., ICLR 2019) with a "
           "WGAN-GP critic: the generator is the bundled LSTM (pretrained by maximum likelihood), which writes whole "
           "tunes after a real tune's style, meter and key tokens; its draws are straight-through Gumbel-softmax, so "
           "the critic's score trains it. The critic (TuneCritic: dilated 1-D convolutions, masked mean and max, and "
           "the tune's self-similarity at lags 1-32, so it sees whether phrases are answered) "
           "judges whole tunes of up to 96 events. Scaled down for the CPU: 200 critic-only "
           "steps, then 150 adversarial steps at a small generator learning rate (at three times that rate the "
           "critic's estimate ran away after 120 steps; at 300 steps it was rising again), the generator's loss "
           "keeping its cross-entropy on real tunes beside the critic's score (--mle-weight 1: without it, the "
           "adversarial phase moved the pitch-class histogram away from the tunes). The cache is fitted again on "
           "validation log-likelihood. It is sampled like the LSTM and follows the same style, meter and key choices.",
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
    parser.add_argument("--hidden", type=int, default=256, help="LSTM: units per layer")
    parser.add_argument("--cache", action="store_true",
                        help="LSTM/GAN: sample with the neural cache fitted on validation log-likelihood (it is "
                             "always fitted and reported in the card; off by default: it lowered the validation "
                             "log-loss but moved the pitch and note-length histograms away from the tunes)")
    parser.add_argument("--layers", type=int, default=2, help="LSTM: layers")
    parser.add_argument("--dropout", type=float, default=0.2, help="LSTM: dropout between layers")
    parser.add_argument("--pointer", type=int, default=0,
                        help="LSTM: width of the pointer over the tune so far (pointer sentinel mixture); 0: none")
    parser.add_argument("--init", help="LSTM: start from the weights of this trained LSTM (a folder train.py saved)")
    parser.add_argument("--lr", type=float, default=2e-3, help="LSTM: peak learning rate (one-cycle)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--mle-weight", type=float, default=0.0,
                        help="GAN: weight of the generator's cross-entropy on real tunes beside the critic's score")
    parser.add_argument("--pretrained", default=str(MODELS_DIR / "generation" / "lstm"),
                        help="GAN: the maximum-likelihood LSTM it starts from (a folder train.py saved)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run = start_run(args.seed, args.threads)  # seed, threads, torchrun's process group, the device

    if args.midi_dir:
        tunes = load_midi_folder(args.midi_dir)
        data_desc = f"melodies of the MIDI files in {args.midi_dir}"
        train, val = split_by_tune(tunes)
    elif args.styles:
        # every style split on its own, so the Essen held-out tunes are the same whatever else is trained on; the
        # validation tunes (early stopping, the neural cache) are a slice of the training split, never held-out ones
        styles = [s.strip() for s in args.styles.split(",")]
        train, val = [], []
        for style in styles:
            a, _held_out = split_by_tune(load_styles([style]))
            fit, check = split_by_tune(a, holdout=0.05, seed=1)
            train, val = train + fit, val + check
        tunes = train + val
        data_desc = (f"music21 folk collections {', '.join(styles)} (essen: Essen ballads, children's songs, Erk, "
                     "Altdeutsch; irish: O'Neill 1850; american: Ryan's Mammoth; nottingham: the Nottingham dataset): "
                     "melodies transposed to C, x7 keys; each tune starts with its style, meter and key-signature "
                     "tokens and has its bar lines; validation: 5% of the training split")
    else:
        tunes = load_folk_corpus()
        data_desc = ("music21 essenFolksong (ballads, children's songs, Erk, Altdeutsch): "
                     "melodies transposed to C, x7 keys")
        train, val = split_by_tune(tunes)
    if len(tunes) < 10:
        sys.exit(f"error: only {len(tunes)} usable tunes found; need at least 10.")
    log.info("%d training tunes, %d for validation", len(train), len(val))
    out = Path(args.out or MODELS_DIR / "generation" / args.model)
    command = "python -m core.generation.train " + " ".join(sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    cache = None
    if args.model == "lstm":
        init = None
        if args.init:
            from core.generation.api import load

            init = load(args.init).model
            if not isinstance(init, MelodyLSTM):
                sys.exit(f"error: --init {args.init} is not an LSTM.")
        model, history = train_lstm(train, val, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                                    run=run, init=init, config={"hidden": args.hidden, "layers": args.layers,
                                                                "dropout": args.dropout, "pointer": args.pointer})
        cache = fit_cache(model, tune_sequences(val, model.config.vocab, augment=False), apply=args.cache)
        log.info("neural cache: theta %g, lambda %g", cache["cache_theta"], cache["cache_lambda"])
        c = model.config
        config, arch = model.config_dict(), (f"Embedding {c.embed} → {c.layers}-layer LSTM {c.hidden} (dropout "
                                             f"{c.dropout:g}) → linear over event tokens" + (
                                                 f", mixed with a pointer sentinel mixture ({c.pointer}) over the "
                                                 "tune so far" if c.pointer else "") + "; whole tunes")
    elif args.model == "gan":
        from core.generation.api import load

        pretrained = load(args.pretrained)
        if pretrained.kind != "lstm":
            sys.exit(f"error: --pretrained {args.pretrained} is a {pretrained.kind}, not an LSTM.")
        model, history = train_gan(train, copy.deepcopy(pretrained.model), steps=args.steps, batch=args.batch,
                                   seed=args.seed, run=run, mle_weight=args.mle_weight)
        cache = fit_cache(model, tune_sequences(val, model.config.vocab, augment=False), apply=args.cache)
        c = model.config
        config = {**model.config_dict(), "kind": "gan", "pretrained": Path(args.pretrained).name}
        arch = (f"generator: the LSTM (Embedding {c.embed} → {c.layers}-layer LSTM {c.hidden}"
                + (f" → pointer sentinel mixture ({c.pointer})" if c.pointer else "") + "), pretrained by "
                "maximum likelihood, then trained adversarially on whole tunes (Gumbel-softmax draws); critic: "
                "dilated 1-D conv TuneCritic with self-similarity at each lag, WGAN-GP")
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
        config={"steps": args.steps, "batch": args.batch, "train_tunes": len(train), "validation_tunes": len(val),
                "train_seconds": round(time.time() - t0, 1), **({"neural_cache": cache} if cache else {})},
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
