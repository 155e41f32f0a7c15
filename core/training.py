"""Pieces every training script shares: seeding, the papers' stopping and LR rules, checkpoints, model cards.

Training scripts stay plain PyTorch loops (nanoGPT style) so they run unchanged
under ``torchrun`` or ``accelerate launch``; :func:`distributed` reads the
environment those launchers set and nothing more.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MODELS_DIR = ASSETS / "models"


class Cancelled(Exception):
    """Raised inside long work (a fit, a long render) when the user pressed Stop or the client went away."""


def check_cancel(cancel) -> None:
    """Raise :class:`Cancelled` when ``cancel`` (a callable or None) says so; long loops call it per step."""
    if cancel is not None and cancel():
        raise Cancelled()


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def distributed() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) from torchrun/Accelerate's environment; (0, 0, 1) alone."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


@dataclass
class EarlyStopping:
    """Stop when the monitored value has not improved by ``min_delta`` for ``patience`` epochs.

    The genre paper: validation accuracy, +1% within 50 epochs (``mode="max"``).
    """

    patience: int = 50
    min_delta: float = 0.01
    mode: str = "max"
    best: float | None = None
    best_epoch: int = -1
    epoch: int = -1

    def step(self, value: float) -> bool:
        """Record one epoch's value; True means stop now."""
        self.epoch += 1
        better = self.best is None or (
            value > self.best + self.min_delta if self.mode == "max" else value < self.best - self.min_delta
        )
        if better:
            self.best, self.best_epoch = value, self.epoch
        return self.epoch - self.best_epoch >= self.patience

    @property
    def improved(self) -> bool:
        """Whether the last value recorded was a new best (save a checkpoint then)."""
        return self.best_epoch == self.epoch


def plateau_scheduler(optimizer, factor: float = 0.2, patience: int = 5, threshold: float = 1e-4):
    """The genre paper's rule: LR × 0.2 when training loss has not fallen by 1e-4 in 5 epochs."""
    import torch

    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=factor, patience=patience, threshold=threshold, threshold_mode="abs"
    )


@dataclass
class ModelReport:
    """What a tab shows about a trained model, from its card and report files (never its weights): the text,
    real recordings first, and the data of its figures, which the tab draws with ``core.plots``."""

    markdown: str
    labels: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # per-class table rows, when the card has them
    confusion: object = None  # (classes, classes) counts, when the card or report has them
    history: dict | None = None  # training curves by name


@dataclass
class ModelCard:
    """What ships next to every set of bundled weights (``card.json``)."""

    name: str
    task: str
    architecture: str
    training_data: str
    command: str
    seed: int
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    notes: str = ""
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    environment: dict = field(
        default_factory=lambda: {"python": platform.python_version(), "machine": platform.machine()}
    )


def save_checkpoint(model, directory, card: ModelCard | None = None, extra: dict | None = None) -> Path:
    """Save ``model.state_dict()`` as safetensors plus ``card.json`` (and ``extra`` as config.json)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    if extra is not None:
        (directory / "config.json").write_text(json.dumps(extra, indent=2))
    if card is not None:
        from dataclasses import asdict

        (directory / "card.json").write_text(json.dumps(asdict(card), indent=2))
    return directory


def load_state(directory, map_location="cpu") -> dict:
    """Read the safetensors weights saved by :func:`save_checkpoint`."""
    from safetensors.torch import load_file

    return load_file(str(Path(directory) / "model.safetensors"), device=str(map_location))


def read_card(directory) -> dict:
    path = Path(directory) / "card.json"
    return json.loads(path.read_text()) if path.exists() else {}


def update_card(directory, metrics: dict, command: str, data: str | None = None, **fields) -> dict:
    """Merge measured ``metrics`` into ``directory/card.json`` and name how they were measured.

    Every other key of the card, and every metric not measured now, is kept: cards are written by the
    train command (config, training facts) and by evaluate commands (metrics), never by hand. ``fields``
    set top-level keys (e.g. ``notes``). Returns the card written.
    """
    path = Path(directory) / "card.json"
    card = read_card(directory)
    card.setdefault("metrics", {}).update(metrics)
    card["metrics"]["eval_command"] = command
    if data is not None:
        card["metrics"]["eval_data"] = data
    card.update(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return card
