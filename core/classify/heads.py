"""Classifier heads on the musicnn backbones: the real-music defaults for genre and instruments.

A head reads, per 3 s patch, the frozen backbones' embeddings (``penultimate`` 200-d of MTT and MSD,
plus their 100 tag probabilities) and maps them to the task's classes. It is small (a linear layer or
one hidden layer), so it trains in seconds on CPU from cached embeddings.

    head = TagHead.from_pretrained("assets/models/genre/musicnn")   # config.json + model.safetensors
    probs = head.predict_proba(features(embeddings, head.feature))   # (n patches, classes)

``embed_file`` caches every file's embeddings under ``.cache/embeddings`` (keyed by path, size, mtime,
backbone and hop, plus the augmentation's name), so heads and augmentations are compared quickly.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.backbones import musicnn
from core.backbones.embed import BACKBONES, FEATURES, PENULTIMATE
from core.training import check_cancel

try:
    from huggingface_hub import PyTorchModelHubMixin as _HubMixin
except ImportError:  # pragma: no cover
    class _HubMixin:  # type: ignore[no-redef]
        pass


class TagHead(nn.Module, _HubMixin):
    """Standardise → (linear | one hidden layer) → class logits. The standardisation is part of the weights."""

    def __init__(self, labels: list[str], in_dim: int, feature: str = "penultimate+tags",
                 backbones: list[str] = list(BACKBONES), hidden: int = 0, dropout: float = 0.3, task: str = "",
                 kind: str = "tag-head"):
        super().__init__()
        self.labels, self.feature, self.backbones, self.task = list(labels), feature, list(backbones), task
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        if hidden:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, len(labels)))
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, len(labels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)

    @torch.inference_mode()
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, d) features → (n, classes) softmax probabilities."""
        self.eval()
        return torch.softmax(self(torch.from_numpy(np.asarray(X, np.float32))), 1).numpy()


def fit_head(X: np.ndarray, y: np.ndarray, labels: list[str], weights: np.ndarray | None = None, *,
             feature: str = "penultimate+tags", backbones=BACKBONES, hidden: int = 0, dropout: float = 0.3,
             weight_decay: float = 1e-3, epochs: int = 200, lr: float = 3e-3, seed: int = 0, task: str = "",
             progress: Callable[[float, str], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> tuple[TagHead, list[float]]:
    """Full-batch AdamW on cached features with class-balanced weights. Returns the head and its loss curve.

    ``weights`` (per row) let a few real recordings count as much as many generated ones.
    ``progress(fraction, message)`` is told every epoch; ``cancel()`` is checked every epoch and, when it says
    so, :class:`core.training.Cancelled` is raised (the app's one progress/cancel shape).
    """
    torch.manual_seed(seed)
    X = torch.from_numpy(np.asarray(X, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    head = TagHead(labels, X.shape[1], feature, list(backbones), hidden, dropout, task)
    head.mean.copy_(X.mean(0))
    head.std.copy_(X.std(0).clamp_min(1e-3))
    w = torch.ones(len(X)) if weights is None else torch.from_numpy(np.asarray(weights, np.float32))
    counts = torch.bincount(yt, weights=w, minlength=len(labels)).clamp_min(1e-6)
    w = w * (counts.sum() / (len(labels) * counts))[yt]  # every class weighs the same in the loss
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    head.train()
    for epoch in range(epochs):
        opt.zero_grad()
        loss = (nn.functional.cross_entropy(head(X), yt, reduction="none") * w).sum() / w.sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if progress:
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}, loss {loss:.3f}")
        check_cancel(cancel)
    return head.eval(), losses


class TagMapping:
    """The zero-shot baseline as a model: each class scores its best mapped tag among the MTT and MSD taggers'
    own outputs, with no training. Same interface as :class:`TagHead` (``labels``, ``feature``, ``backbones``,
    ``predict_proba``), so both tabs and the API serve it as the model "tags".

    Its mapping is its ``config.json`` (``kind: tag-mapping``), the one place the task's mapping is written
    (``core.classify.tasks`` reads it too). Probabilities are each class's share of the mapped tag evidence;
    a class with no mapped tag scores 0 and can never be chosen, which the tab says.
    """

    feature = "tags"

    def __init__(self, labels: list[str], mapping: dict, backbones=BACKBONES, task: str = ""):
        self.labels, self.mapping, self.backbones, self.task = list(labels), mapping, list(backbones), task
        names = [f"{b}:{t}" for b in self.backbones for t in musicnn.load(b).labels]
        index = {n: i for i, n in enumerate(names)}
        missing = [f"{b}:{t}" for c in self.labels for b in self.backbones for t in mapping.get(c, {}).get(b, [])
                   if f"{b}:{t}" not in index]
        if missing:
            raise ValueError(f"The tag mapping names tags the taggers do not have: {', '.join(missing)}.")
        self.columns = [[index[f"{b}:{t}"] for b in self.backbones for t in mapping.get(c, {}).get(b, [])]
                        for c in self.labels]

    @property
    def unmapped(self) -> list[str]:
        """Classes no tag speaks for: the mapping can never name them."""
        return [c for c, cols in zip(self.labels, self.columns) if not cols]

    def eval(self) -> "TagMapping":
        return self

    def scores(self, X: np.ndarray) -> np.ndarray:
        """(n, 2 × 50 tag probabilities) → (n, classes): each class's best mapped tag, 0 without one."""
        X = np.asarray(X, np.float32)
        out = np.zeros((len(X), len(self.labels)), np.float32)
        for j, cols in enumerate(self.columns):
            if cols:
                out[:, j] = X[:, cols].max(1)
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.scores(X)
        total = s.sum(1, keepdims=True)
        return np.where(total > 0, s / np.maximum(total, 1e-12), 1.0 / len(self.labels)).astype(np.float32)

    @classmethod
    def from_pretrained(cls, folder) -> "TagMapping":
        config = json.loads((Path(folder) / "config.json").read_text())
        return cls(config["labels"], config["mapping"], config.get("backbones", BACKBONES), config.get("task", ""))


def tag_columns(labels, mapping: dict, feature: str, backbones=BACKBONES) -> list[list[int]]:
    """Per class, the columns of ``features(..., feature, backbones)`` holding its mapped tags ([] for none)."""
    index, offset = {}, 0
    for b in backbones:
        net = musicnn.load(b)
        for key in FEATURES[feature]:
            width = {"tags": len(net.labels), "penultimate": PENULTIMATE}.get(key)
            if width is None:
                raise ValueError(f"The prior reads tags and penultimate features, not {key!r}.")
            if key == "tags":
                index.update({f"{b}:{t}": offset + i for i, t in enumerate(net.labels)})
            offset += width
    missing = [f"{b}:{t}" for c in labels for b in backbones for t in mapping.get(c, {}).get(b, [])
               if f"{b}:{t}" not in index]
    if missing:
        raise ValueError(f"The tag mapping names tags the taggers do not have (or the feature has no tags): "
                         f"{', '.join(missing)}.")
    return [[index[f"{b}:{t}"] for b in backbones for t in mapping.get(c, {}).get(b, [])] for c in labels]


class TagPrior(nn.Module, _HubMixin):
    """The zero-shot mapping as a prior, corrected only where data has earned it.

    ``logits = κ · mapping(x) + V · standardise(x) + b``, probabilities ``softmax(logits / T)``:
    ``mapping(x)`` is :class:`TagMapping`'s score (each class's best mapped tag), ``κ`` its learned weight,
    ``V`` a linear correction over the backbones' features that training pulls back towards 0 (``fit_prior``'s
    ``penalty``; rows of ``fixed`` classes are held at exactly 0, bias included), and ``T`` a temperature fitted
    afterwards on real recordings so the confidence means what it says. Classes with no mapped tag (clarinet,
    trumpet, tenor saxophone) can only be learned, and are listed in ``learned``.
    """

    def __init__(self, labels: list[str], mapping: dict, in_dim: int, feature: str = "penultimate+tags",
                 backbones: list[str] = list(BACKBONES), fixed: list[str] = (), untested: list[str] = (),
                 task: str = "", kind: str = "tag-prior"):
        super().__init__()
        self.labels, self.mapping, self.feature, self.backbones, self.task = list(labels), mapping, feature, \
            list(backbones), task
        self.fixed = [c for c in fixed if c in self.labels]
        #: classes with no tag and no real recording to check them on: their answers are flagged as guesses
        self.untested = [c for c in untested if c in self.labels]
        self.columns = tag_columns(self.labels, mapping, feature, self.backbones)
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("free", torch.tensor([c not in self.fixed for c in self.labels], dtype=torch.float32))
        self.kappa = nn.Parameter(torch.tensor(8.0))
        self.correction = nn.Linear(in_dim, len(self.labels))
        nn.init.zeros_(self.correction.weight)
        nn.init.zeros_(self.correction.bias)

    @property
    def learned(self) -> list[str]:
        """Classes no tag speaks for: only the learned correction names them."""
        return [c for c, cols in zip(self.labels, self.columns) if not cols]

    def mapping_scores(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(x), len(self.labels), dtype=x.dtype)
        for j, cols in enumerate(self.columns):
            if cols:
                out[:, j] = x[:, cols].amax(1)
        return out

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Before the temperature: what training fits."""
        return self.kappa * self.mapping_scores(x) + self.correction((x - self.mean) / self.std) * self.free

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x) / self.temperature

    @torch.inference_mode()
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, d) features → (n, classes) calibrated probabilities."""
        self.eval()
        return torch.softmax(self(torch.from_numpy(np.asarray(X, np.float32))), 1).numpy()


def fit_prior(X: np.ndarray, y: np.ndarray, labels: list[str], mapping: dict, weights: np.ndarray | None = None, *,
              penalty: float = 1.0, fixed_mapped: bool = False, untested=(), feature: str = "penultimate+tags",
              backbones=BACKBONES,
              weight_decay: float = 1e-3, epochs: int = 300, lr: float = 3e-3, seed: int = 0, task: str = "",
              progress: Callable[[float, str], None] | None = None,
              cancel: Callable[[], bool] | None = None) -> tuple[TagPrior, list[float]]:
    """Fit a :class:`TagPrior`: class-balanced cross-entropy + ``penalty`` · ‖V‖² on the mapped classes' rows
    (the pull back to the mapping) + ``weight_decay`` · ‖V‖² on the learned classes' rows.

    ``fixed_mapped``: hold every mapped class's correction at 0 (the mapping decides among them; only the
    classes with no tag are learned). Same progress/cancel shape as :func:`fit_head`.
    """
    torch.manual_seed(seed)
    X = torch.from_numpy(np.asarray(X, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    mapped = [c for c in labels if any(mapping.get(c, {}).get(b) for b in backbones)]
    model = TagPrior(labels, mapping, X.shape[1], feature, list(backbones), mapped if fixed_mapped else [],
                     list(untested), task)
    model.mean.copy_(X.mean(0))
    model.std.copy_(X.std(0).clamp_min(1e-3))
    w = torch.ones(len(X)) if weights is None else torch.from_numpy(np.asarray(weights, np.float32))
    counts = torch.bincount(yt, weights=w, minlength=len(labels)).clamp_min(1e-6)
    w = w * (counts.sum() / (len(labels) * counts))[yt]
    row_penalty = torch.tensor([penalty if c in mapped else weight_decay for c in labels])[:, None]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        opt.zero_grad()
        ce = (nn.functional.cross_entropy(model.logits(X), yt, reduction="none") * w).sum() / w.sum()
        loss = ce + (row_penalty * model.correction.weight ** 2).sum() \
            + (row_penalty[:, 0] * model.correction.bias ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(ce.item())
        if progress:
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}, loss {ce.item():.3f}")
        check_cancel(cancel)
    return model.eval(), losses


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by count."""
    probs, y = np.asarray(probs), np.asarray(y)
    conf, correct = probs.max(1), probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(ece)


def pool_labels(scores: np.ndarray, groups) -> np.ndarray:
    """(n, source labels) independent scores (an AudioSet checkpoint's sigmoids) → (n, classes): each class takes
    the maximum of its labels (``groups``: one list of label indices per class; empty: 0), renormalised to sum 1.
    The maximum, not the sum: a class with many related labels must not win by counting them (genre and
    instruments pool alike)."""
    scores = np.asarray(scores, np.float32)
    out = np.stack([scores[:, idx].max(1) if len(idx) else np.zeros(len(scores), np.float32) for idx in groups], 1)
    return out / np.maximum(out.sum(1, keepdims=True), 1e-9)


#: A verdict whose top two probabilities are closer than this is shown as uncertain
#: (how often it fires and how often such answers are right: docs/figures/<task>_prior.json).
UNCERTAIN_MARGIN = 0.2


def is_uncertain(probs: np.ndarray, margin: float = UNCERTAIN_MARGIN) -> bool:
    """True when the top two of ``probs`` (classes,) are within ``margin``."""
    top2 = np.sort(np.asarray(probs))[-2:]
    return bool(len(top2) == 2 and top2[1] - top2[0] < margin)


def verdict_notices(labels, probs: np.ndarray, head=None) -> list[str]:
    """What the reader should know about a verdict: the top two are close, or its class was never checked
    on a real recording and no tag speaks for it (``TagPrior.untested``)."""
    probs = np.asarray(probs)
    order = np.argsort(-probs)
    out = []
    if is_uncertain(probs):
        a, b = order[:2]
        out.append(f"Uncertain: {labels[a]} ({probs[a]:.0%}) and {labels[b]} ({probs[b]:.0%}) are close. "
                   "Listen, and read the tags beside it.")
    top = labels[int(order[0])]
    if top in getattr(head, "untested", ()):
        out.append(f"No tag speaks for {top} and no real recording of it was available to check the model on: "
                   "this answer was learned from generated renders only, so treat it as a guess.")
    return out


def load_head(folder):
    """The head saved in ``folder``: a :class:`TagMapping` (kind ``tag-mapping``), a :class:`TagPrior`
    (kind ``tag-prior``) or a :class:`TagHead` (no kind)."""
    config = json.loads((Path(folder) / "config.json").read_text())
    kind = config.get("kind")
    if kind == "tag-mapping":
        return TagMapping.from_pretrained(folder)
    if kind == "tag-prior":
        return TagPrior.from_pretrained(str(folder)).eval()
    return TagHead.from_pretrained(str(folder)).eval()


def is_mapping(folder) -> bool:
    """True for a folder holding a :class:`TagMapping` (``config.json`` of kind ``tag-mapping``, no weights)."""
    path = Path(folder) / "config.json"
    return path.exists() and json.loads(path.read_text()).get("kind") == "tag-mapping"
