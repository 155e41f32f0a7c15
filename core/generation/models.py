"""The two generators of the MIDI-generation paper, made to train on a CPU in minutes.

- ``MelodyLSTM``: next-event prediction over (pitch, duration) tokens, as the paper's
  LSTM predicts the next note of a piece.
- ``GridGenerator`` / ``GridCritic``: a WGAN-GP over 4-bar melodies on a 16th-note
  grid (one class per step: a pitch onset, rest or hold). The generator emits
  per-step softmax distributions and the critic is a 1-D conv net, the recipe with
  which WGAN-GP (Gulrajani et al., 2017) trains stably on discrete sequences.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

# --- token vocabulary for the LSTM -------------------------------------------
BOS, EOS = "<bos>", "<eos>"


def event_token(pitch: int, dur: float) -> str:
    return f"{'r' if pitch < 0 else pitch}_{dur:g}"


def token_event(token: str) -> tuple[int, float] | None:
    """Inverse of :func:`event_token`; None for the special tokens."""
    if token.startswith("<"):
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


class MelodyLSTM(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(len(config.vocab), config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, config.layers, batch_first=True, dropout=config.dropout)
        self.head = nn.Linear(config.hidden, len(config.vocab))

    def forward(self, tokens: torch.Tensor, state=None):
        """tokens (batch, time) → logits (batch, time, vocab), new LSTM state."""
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state

    def config_dict(self) -> dict:
        return {"kind": "lstm", **asdict(self.config)}


# --- piano-roll grid for the GAN ----------------------------------------------
STEPS_PER_QUARTER = 4  # 16th-note grid
LOW_PITCH, HIGH_PITCH = 48, 95  # C3..B6 covers the (C-normalised) folk melodies
N_PITCHES = HIGH_PITCH - LOW_PITCH + 1
REST_CLASS, HOLD_CLASS = N_PITCHES, N_PITCHES + 1
N_CLASSES = N_PITCHES + 2


@dataclass
class GANConfig:
    steps: int = 64  # 4 bars of 4/4
    latent: int = 100
    width: int = 128


class GridGenerator(nn.Module):
    """z → (batch, N_CLASSES, steps) logits; upsamples a bar-level plan to 16th notes."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        w, s0 = config.width, config.steps // 8
        self.project = nn.Sequential(nn.Linear(config.latent, w * s0), nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose1d(w, w, 4, stride=2, padding=1), nn.BatchNorm1d(w), nn.ReLU(),
            nn.ConvTranspose1d(w, w // 2, 4, stride=2, padding=1), nn.BatchNorm1d(w // 2), nn.ReLU(),
            nn.ConvTranspose1d(w // 2, w // 2, 4, stride=2, padding=1), nn.BatchNorm1d(w // 2), nn.ReLU(),
            nn.Conv1d(w // 2, N_CLASSES, 5, padding=2),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(z.shape[0], self.config.width, self.config.steps // 8)
        return self.body(x)

    def config_dict(self) -> dict:
        return {"kind": "gan", **asdict(self.config)}


class GridCritic(nn.Module):
    """(batch, N_CLASSES, steps) one-hot or softmax → a Wasserstein score. No batch norm (WGAN-GP)."""

    def __init__(self, config: GANConfig):
        super().__init__()
        w = config.width
        self.body = nn.Sequential(
            nn.Conv1d(N_CLASSES, w // 2, 5, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(w // 2, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(w, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(w, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(w * (config.steps // 8), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


def events_to_grid(events: list[tuple[int, float]]) -> list[int]:
    """(pitch, quarter_length) events → one class per 16th step (onset pitch, rest or hold)."""
    grid = []
    for pitch, dur in events:
        steps = max(1, round(dur * STEPS_PER_QUARTER))
        if pitch < 0:
            grid += [REST_CLASS] * steps
        else:
            while pitch < LOW_PITCH:
                pitch += 12
            while pitch > HIGH_PITCH:
                pitch -= 12
            grid += [pitch - LOW_PITCH] + [HOLD_CLASS] * (steps - 1)
    return grid


def grid_to_events(grid) -> list[tuple[int, float]]:
    """Inverse of :func:`events_to_grid`; a hold with nothing to hold counts as rest."""
    events: list[list] = []
    for c in map(int, grid):
        step = 1.0 / STEPS_PER_QUARTER
        if c == HOLD_CLASS and events:
            events[-1][1] += step
        elif c == REST_CLASS or c == HOLD_CLASS:
            if events and events[-1][0] < 0:
                events[-1][1] += step
            else:
                events.append([-1, step])
        else:
            events.append([LOW_PITCH + c, step])
    return [(p, d) for p, d in events]
