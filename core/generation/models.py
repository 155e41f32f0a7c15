"""The two generators of the MIDI-generation paper, made to train on a CPU in minutes.

- ``MelodyLSTM``: next-event prediction over (pitch, duration) tokens, as the paper's
  LSTM predicts the next note of a piece; with ``pointer``, mixed with copying from the
  tune so far (pointer sentinel mixture, Merity et al., 2017), so that it answers its phrases.
- The GAN: a ``MelodyLSTM`` generator trained adversarially against a ``TuneCritic``
  that judges whole tunes (RelGAN, Nie et al., 2019: the generator is pretrained by
  maximum likelihood, then its sampled tunes, relaxed by Gumbel-softmax, are scored by
  a WGAN-GP critic (Gulrajani et al., 2017); the adversarial phase is what it learns from).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

# --- token vocabulary for the LSTM -------------------------------------------
BOS, EOS = "<bos>", "<eos>"
SENTINEL_START = 6.0  # e^6 against a tune's few hundred earlier positions: the vocabulary first
BAR = "|"  # a bar line, as folk-rnn's ABC tokens have them: the LSTM writes them, they have no duration


def event_token(pitch: int, dur: float) -> str:
    return f"{'r' if pitch < 0 else pitch}_{dur:g}"


def token_event(token: str) -> tuple[int, float] | None:
    """Inverse of :func:`event_token`; None for the special tokens and bar lines."""
    if token.startswith("<") or token == BAR:
        return None
    pitch, dur = token.split("_")
    return (-1 if pitch == "r" else int(pitch)), float(dur)


@dataclass
class LSTMConfig:
    vocab: list[str]
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.2
    #: the neural cache (Grave et al., 2017): the next token's probability is mixed, with weight ``cache_lambda``,
    #: with the tokens that followed earlier states of the same tune like this one (``cache_theta`` sharpens the
    #: likeness); a tune repeats its own phrases. 0: no cache. Fitted on validation loss by train.fit_cache.
    cache_theta: float = 0.0
    cache_lambda: float = 0.0
    #: width of the pointer's query and keys (pointer sentinel mixture, Merity et al. 2017): the next token may be
    #: copied from what followed an earlier moment of the tune like this one, with a learned gate (the sentinel)
    #: between copying and the vocabulary. A folk tune answers its phrases; the LSTM alone almost never did (the
    #: repeats in its pieces were replays of the whole tune). 0: no pointer.
    pointer: int = 0


class MelodyLSTM(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(len(config.vocab), config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True, dropout=config.dropout)
        self.head = nn.Linear(config.hidden, len(config.vocab))
        if config.pointer:
            self.query = nn.Linear(config.hidden, config.pointer)
            self.key = nn.Linear(config.hidden, config.pointer, bias=False)
            self.sentinel = nn.Parameter(torch.zeros(config.pointer))
            # the sentinel's score starts high, so a model extended from a plain LSTM starts by trusting it
            self.sentinel_bias = nn.Parameter(torch.tensor(SENTINEL_START))

    def forward(self, tokens: torch.Tensor, state=None, return_hidden: bool = False):
        """tokens (batch, time) ids, or (batch, time, vocab) one-hot / relaxed samples (the GAN feeds back its
        Gumbel-softmax draws so that gradients pass through them) → logits (batch, time, vocab), new state and,
        with ``return_hidden``, the LSTM's last-layer outputs (batch, time, hidden), the neural cache's keys.

        With the pointer the logits are log-probabilities of the mixture (so softmax, cross-entropy and
        temperature read them as any logits) and the state also holds every earlier position's key and token.
        Feeding a tune in pieces with the state gives the logits of feeding it whole."""
        x = tokens @ self.embed.weight if tokens.is_floating_point() else self.embed(tokens)
        lstm_state, memory = (state if state is not None else (None, None)) if self.config.pointer else (state, None)
        out, lstm_state = self.lstm(x, lstm_state)
        logits = self.head(out)
        if self.config.pointer:
            onehot = tokens if tokens.is_floating_point() else nn.functional.one_hot(tokens, logits.shape[-1]).float()
            logits, memory = self.point(out, onehot, logits, memory)
            state = (lstm_state, memory)
        else:
            state = lstm_state
        return (logits, state, out) if return_hidden else (logits, state)

    def point(self, h: torch.Tensor, onehot: torch.Tensor, logits: torch.Tensor, memory=None):
        """The pointer sentinel mixture over h (batch, time, hidden) and its input tokens onehot (batch, time,
        vocab): position i points at an earlier position j (key from h_j) and so at the token that came after j;
        memory: the (keys, tokens) of the positions before these, returned grown by theirs."""
        keys = self.key(h)
        if memory is not None:
            keys, onehot = torch.cat([memory[0], keys], 1), torch.cat([memory[1], onehot], 1)
        t, n = h.shape[1], keys.shape[1]
        query = self.query(h)
        scores = query @ keys[:, :-1].transpose(1, 2) / self.config.pointer ** 0.5  # (batch, t, n - 1)
        earlier = torch.ones(t, n - 1, dtype=torch.bool, device=h.device).tril(n - t - 1)  # j < position i
        scores = scores.masked_fill(~earlier, -torch.inf)
        gate_score = (query @ self.sentinel).unsqueeze(-1) + self.sentinel_bias
        weights = torch.softmax(torch.cat([scores, gate_score], -1), -1)
        copied = weights[..., :-1] @ onehot[:, 1:]  # what followed each earlier position, by its weight
        mixture = weights[..., -1:] * torch.softmax(logits, -1) + copied
        return mixture.clamp(min=1e-12).log(), (keys, onehot)

    def config_dict(self) -> dict:
        return {"kind": "lstm", **asdict(self.config)}


def cache_probabilities(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, vocab: int,
                        theta: float) -> torch.Tensor:
    """The neural cache's next-token distribution (Grave et al., 2017): ``query`` (hidden,) against the earlier
    states ``keys`` (n, hidden) of the tune, each followed by token ``values`` (n,) → (vocab,) probabilities."""
    weights = torch.softmax(theta * (keys @ query), dim=0)
    return torch.zeros(vocab).index_add_(0, values, weights)


def cache_mixture_nll(logits: torch.Tensor, hidden: torch.Tensor, targets: torch.Tensor, theta: float,
                      lam: float, ignore: int = -100) -> tuple[float, int]:
    """Summed negative log-likelihood (and token count) of ``targets`` (batch, time) under the LSTM's
    distribution mixed with its cache: logits (batch, time, vocab), hidden (batch, time, hidden)."""
    logp = torch.log_softmax(logits, -1)
    valid = targets != ignore
    safe = targets.clamp(min=0)
    p_model = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1).exp()
    t = targets.shape[1]
    earlier = torch.ones(t, t, dtype=torch.bool).tril(-1)  # position i < t is in t's cache
    scores = theta * hidden @ hidden.transpose(1, 2)
    scores = scores.masked_fill(~(earlier & valid.unsqueeze(1)), -torch.inf)
    weights = torch.softmax(scores, -1).nan_to_num(0.0)  # the first position has an empty cache
    same = (safe.unsqueeze(2) == safe.unsqueeze(1)) & valid.unsqueeze(1)
    p_cache = (weights * same).sum(-1)
    has_cache = earlier.any(-1).unsqueeze(0).expand_as(p_model)
    mix = torch.where(has_cache, (1 - lam) * p_model + lam * p_cache, p_model)
    return float(-(mix.clamp(min=1e-12).log() * valid).sum()), int(valid.sum())


@dataclass
class CriticConfig:
    vocab: int
    width: int = 128
    kernel: int = 5
    dilations: tuple = (1, 2, 4, 8)  # receptive field of about 60 events: two phrases of a folk tune
    #: the critic also sees how often the tune's token at i comes again at i + lag, for lags 1..``lags`` (the
    #: diagonals of its self-similarity matrix, Foote 1999): a phrase answered a phrase later is what it checks
    lags: int = 32


class TuneCritic(nn.Module):
    """(batch, time, vocab) one-hot or relaxed tokens, (batch, time) mask of real positions → a Wasserstein score.

    A token projection, dilated 1-D convolutions (so a phrase is seen beside the one before it), a masked
    mean and max over the tune, and its self-similarity at each lag (``self_similarity``). No normalisation
    layers (WGAN-GP).
    """

    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.project = nn.Linear(config.vocab, w, bias=False)
        self.convs = nn.ModuleList(nn.Conv1d(w, w, config.kernel, padding=d * (config.kernel - 1) // 2, dilation=d)
                                   for d in config.dilations)
        self.head = nn.Sequential(nn.Linear(2 * w + config.lags, w), nn.LeakyReLU(0.2), nn.Linear(w, 1))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(1).float()  # (batch, 1, time)
        x = self.project(tokens).transpose(1, 2) * m
        for conv in self.convs:
            x = (x + nn.functional.leaky_relu(conv(x), 0.2)) * m  # residual: a deep stack stays trainable
        mean = x.sum(2) / m.sum(2).clamp(min=1)
        peak = x.masked_fill(m == 0, -1e4).amax(2)
        return self.head(torch.cat([mean, peak, self_similarity(tokens, mask, self.config.lags)], 1)).squeeze(1)


def self_similarity(tokens: torch.Tensor, mask: torch.Tensor, lags: int) -> torch.Tensor:
    """(batch, time, vocab) one-hot or relaxed tokens, (batch, time) mask → (batch, lags): for each lag 1..lags,
    the share of real positions i whose token is the token at i + lag (relaxed tokens: their overlap)."""
    x = tokens * mask.unsqueeze(-1)
    similar = x @ x.transpose(1, 2)  # (batch, time, time)
    pairs = mask.unsqueeze(2) * mask.unsqueeze(1)
    out = []
    for lag in range(1, lags + 1):
        same = torch.diagonal(similar, offset=lag, dim1=1, dim2=2).sum(1)
        out.append(same / torch.diagonal(pairs, offset=lag, dim1=1, dim2=2).sum(1).clamp(min=1))
    return torch.stack(out, 1) if out else tokens.new_zeros(tokens.shape[0], 0)


class GumbelRollout(nn.Module):
    """The GAN's generator step as one module call (so DistributedDataParallel sees one forward per backward):
    a ``MelodyLSTM`` writes ``length`` tokens after ``prefix``, each drawn by straight-through Gumbel-softmax
    (one-hot forward, softmax gradients), and reads back its own draw.

    Returns (tokens (batch, prefix + length, vocab) one-hot, mask (batch, prefix + length): positions up to and
    including each tune's end token); with ``teacher`` (batch, time, vocab) one-hot real tunes, also the
    generator's logits reading them (its maximum-likelihood term, in the same forward).
    """

    def __init__(self, generator: MelodyLSTM, banned: list[int], eos: int):
        super().__init__()
        self.generator, self.eos = generator, eos
        self.register_buffer("banned", torch.tensor(banned, dtype=torch.long), persistent=False)

    def forward(self, prefix: torch.Tensor, length: int, tau: float = 1.0, teacher: torch.Tensor | None = None):
        vocab = len(self.generator.config.vocab)
        logits, state = self.generator(prefix)
        draws = [nn.functional.one_hot(prefix, vocab).float()]
        alive = torch.ones(prefix.shape[0], device=prefix.device)
        masks = [torch.ones_like(prefix, dtype=torch.float)]
        for _ in range(length):
            step = logits[:, -1].index_fill(1, self.banned, -1e9)
            y = nn.functional.gumbel_softmax(step, tau=tau, hard=True) * alive.unsqueeze(1)
            draws.append(y.unsqueeze(1))
            masks.append(alive.unsqueeze(1))
            alive = alive * (1 - y[:, self.eos].detach())  # after its end token a tune is silent padding
            logits, state = self.generator(y.unsqueeze(1), state)
        if teacher is not None:
            return torch.cat(draws, 1), torch.cat(masks, 1), self.generator(teacher)[0]
        return torch.cat(draws, 1), torch.cat(masks, 1)
