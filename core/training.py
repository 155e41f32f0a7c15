"""Pieces every training script shares: seeding, the papers' stopping and LR rules, checkpoints, model cards.

Training scripts stay plain PyTorch loops (nanoGPT style) so they run unchanged
under ``torchrun`` or ``accelerate launch``; :func:`distributed` reads the
environment those launchers set and nothing more.
"""
from __future__ import annotations

import contextlib
import contextvars
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


#: The cancel callable of the job running in this context (a server request), for loops deep in the engine
#: (the backbone's batches, analysis stages) that cannot take a ``cancel`` argument through every caller.
_CANCEL: contextvars.ContextVar = contextvars.ContextVar("music_studio_cancel", default=None)


def check_cancel(cancel=None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` (a callable or None) or the enclosing :func:`cancel_scope` says so;
    long loops call it per step."""
    scoped = _CANCEL.get()
    if (cancel is not None and cancel()) or (scoped is not None and scoped()):
        raise Cancelled()


@contextlib.contextmanager
def cancel_scope(cancel):
    """Every :func:`check_cancel` inside this block (in this thread or context) also asks ``cancel()``."""
    token = _CANCEL.set(cancel)
    try:
        yield
    finally:
        _CANCEL.reset(token)


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
class Run:
    """Where this process trains: its place among the workers ``torchrun`` / ``accelerate launch`` started, and
    its device. Alone it is rank 0 of 1 on the registry's device."""

    rank: int = 0
    local_rank: int = 0
    world: int = 1
    device: object = None  # a torch.device

    @property
    def is_main(self) -> bool:
        """The worker that logs, evaluates and saves."""
        return self.rank == 0


def start_run(seed: int = 0, threads: int | None = None) -> Run:
    """The start of every train script: threads, the process group when launched by torchrun or Accelerate
    (NCCL on GPUs, gloo on CPU), the device (``cuda:<local rank>`` under a multi-GPU launch, else
    ``core.registry.device()``, which ``--device`` / ``MUSIC_STUDIO_DEVICE`` set) and the seed.

    Data order should come from a generator seeded with ``seed + run.rank``, so each worker draws its own.
    """
    import torch

    from core import registry

    rank, local_rank, world = distributed()
    if threads:
        torch.set_num_threads(threads)
    device = registry.device()
    if world > 1:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    set_seed(seed)
    return Run(rank, local_rank, world, device)


def wrap(model, run: Run):
    """The module the training step calls: ``DistributedDataParallel`` over the launch's workers, or ``model`` alone."""
    if run.world <= 1:
        return model
    import torch

    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[run.device.index] if run.device.type == "cuda" else None)


def end_run(run: Run) -> None:
    """Leave the process group (every worker, after the main one saved)."""
    if run.world > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def progress_bar(desc: str, enabled: bool = True, steps: int = 1000):
    """A ``(fraction, message)`` progress callback drawn as a tqdm bar: what the CLI passes where the tab passes
    one backed by ``gr.Progress``. ``enabled=False`` (workers other than the main one) draws nothing."""
    if not enabled:
        return lambda fraction, message="": None
    from tqdm import tqdm

    bar = tqdm(total=steps, desc=desc)

    def report(fraction: float, message: str = "") -> None:
        bar.n = min(steps, max(0, round(float(fraction) * steps)))
        if message:
            bar.set_postfix_str(message, refresh=False)
        bar.refresh()
        if fraction >= 1:
            bar.close()

    return report


def save_resume(run_dir, **state) -> Path:
    """Everything a run needs to go on (model, optimiser, history, step...) in ``run_dir/last.pt``, atomically."""
    import torch

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / "last.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(run_dir / "last.pt")  # a run killed mid-save keeps the previous point
    return run_dir / "last.pt"


def load_resume(run_dir, map_location="cpu") -> dict | None:
    """What :func:`save_resume` wrote, or None when the run has not saved yet."""
    import torch

    path = Path(run_dir) / "last.pt"
    return torch.load(path, map_location=map_location, weights_only=False) if path.exists() else None


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


def update_card(directory, metrics: dict, command: str, /, data: str | None = None, **fields) -> dict:
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
