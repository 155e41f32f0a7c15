"""The instrument paper's two classifiers, on ASTFeatureExtractor log-mels of shape (batch, frames, 128).

- ``InstrumentCNN``: three conv blocks 1→32→64→128 (conv 3×3, ReLU, 2×2 max-pool), a linear
  layer and log-softmax (Velardo's CNN, as in the paper).
- ``make_ast``: transformers' ``ASTForAudioClassification`` trained from scratch with 2 hidden
  layers and 12 heads; hidden size and input length are scaled down (see the model card).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class CNNConfig:
    n_classes: int = 8
    frames: int = 200  # 2 s at the extractor's 10 ms hop
    mel_bins: int = 128
    channels: tuple = (32, 64, 128)


class InstrumentCNN(nn.Module):
    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        blocks, c_in = [], 1
        for c_out in config.channels:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        reduce = 2 ** len(config.channels)
        self.classifier = nn.Linear(c_in * (config.frames // reduce) * (config.mel_bins // reduce), config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, frames, mels) → log-probabilities (batch, classes)."""
        return F.log_softmax(self.classifier(self.features(x.unsqueeze(1)).flatten(1)), dim=-1)

    def config_dict(self) -> dict:
        return {"kind": "cnn", **asdict(self.config)}


@dataclass
class ASTSize:
    """The parts of ``ASTConfig`` this project changes; the paper's are 2 layers and 12 heads."""

    n_classes: int = 8
    frames: int = 200
    hidden_size: int = 192  # transformers' default 768, scaled down to train on 2 CPU cores
    num_hidden_layers: int = 2
    num_attention_heads: int = 12
    intermediate_size: int = 768


def make_ast(size: ASTSize, labels: list[str] | None = None):
    from transformers import ASTConfig, ASTForAudioClassification

    config = ASTConfig(
        hidden_size=size.hidden_size, num_hidden_layers=size.num_hidden_layers,
        num_attention_heads=size.num_attention_heads, intermediate_size=size.intermediate_size,
        max_length=size.frames, num_mel_bins=128, num_labels=size.n_classes,
        id2label={i: lab for i, lab in enumerate(labels or range(size.n_classes))},
        label2id={lab: i for i, lab in enumerate(labels or range(size.n_classes))},
    )
    return ASTForAudioClassification(config)


class ASTClassifier(nn.Module):
    """Log-softmax head on the AST's logits, so both models share one interface."""

    def __init__(self, size: ASTSize, labels: list[str] | None = None):
        super().__init__()
        self.size = size
        self.ast = make_ast(size, labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.ast(input_values=x).logits, dim=-1)

    def config_dict(self) -> dict:
        return {"kind": "ast", **asdict(self.size)}
