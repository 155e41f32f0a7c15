"""The paper's four networks on the 12×29 band spectrogram, plus a small AST on log-mel.

Names and sizes follow the paper (section 4): Dense 256→128; RNN with two ReLU recurrent
layers of 128 and 256 units then the dense head; CNN with two 3×3 convolutions of 32
kernels, 2×2 max-pooling and one dense layer of 128; CRNN ("ConvcurrentNet") with the
convolutional and recurrent branches merged into the dense head. Every model maps a batch
of excerpts to logits over ``n_classes``.
"""
from __future__ import annotations

import torch
from torch import nn

N_BANDS, N_FRAMES = 12, 29


class Dense(nn.Module):
    """The paper's 'standard neural network': flatten, 256 → 128 with ReLU, softmax output."""

    def __init__(self, n_classes: int, n_bands: int = N_BANDS, n_frames: int = N_FRAMES, hidden=(256, 128)):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n_bands * n_frames, hidden[0]), nn.ReLU(),
            nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], n_classes),
        )

    def forward(self, x):  # x: (B, bands, frames)
        return self.net(x)


class RNN(nn.Module):
    """Two simple recurrent layers with ReLU (128, 256 units) over time, then the dense head."""

    def __init__(self, n_classes: int, n_bands: int = N_BANDS, units=(128, 256), hidden=(256, 128)):
        super().__init__()
        self.rnn1 = nn.RNN(n_bands, units[0], nonlinearity="relu", batch_first=True)
        self.rnn2 = nn.RNN(units[0], units[1], nonlinearity="relu", batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(units[1], hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
            nn.Linear(hidden[1], n_classes),
        )

    def forward(self, x):
        h, _ = self.rnn1(x.transpose(1, 2))  # time steps are the 29 frames, features the 12 bands
        h, _ = self.rnn2(h)
        return self.head(h[:, -1])


def conv_branch(kernels: int = 32) -> nn.Sequential:
    """Two (3×3 convolution, ReLU, 2×2 max-pool) blocks: 12×29 → 3×7."""
    return nn.Sequential(
        nn.Conv2d(1, kernels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(kernels, kernels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
    )


class CNN(nn.Module):
    """Convolution/pooling twice, then one dense layer of 128 (≈ 100k parameters as in the paper)."""

    def __init__(self, n_classes: int, n_bands: int = N_BANDS, n_frames: int = N_FRAMES, kernels: int = 32,
                 hidden: int = 128):
        super().__init__()
        self.conv = conv_branch(kernels)
        flat = kernels * (n_bands // 4) * (n_frames // 4)
        self.head = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.head(self.conv(x.unsqueeze(1)))


class CRNN(nn.Module):
    """ConvcurrentNet: a conv branch and a recurrent branch, concatenated into the dense head."""

    def __init__(self, n_classes: int, n_bands: int = N_BANDS, n_frames: int = N_FRAMES, kernels: int = 32,
                 units: int = 128, hidden=(256, 128)):
        super().__init__()
        self.conv = conv_branch(kernels)
        self.rnn = nn.RNN(n_bands, units, nonlinearity="relu", batch_first=True)
        flat = kernels * (n_bands // 4) * (n_frames // 4)
        self.head = nn.Sequential(
            nn.Linear(flat + units, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
            nn.Linear(hidden[1], n_classes),
        )

    def forward(self, x):
        c = self.conv(x.unsqueeze(1))
        h, _ = self.rnn(x.transpose(1, 2))
        return self.head(torch.cat([c, h[:, -1]], dim=1))


#: A small AST (scaled down from the 86M-parameter AudioSet model so it trains on CPU in minutes).
AST_SMALL = dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=3, intermediate_size=192,
                 frequency_stride=16, time_stride=16, num_mel_bins=128, max_length=298)


class AST(nn.Module):
    """transformers' ``ASTForAudioClassification`` on (B, 298, 128) log-mel excerpts."""

    def __init__(self, n_classes: int, **config):
        super().__init__()
        from transformers import ASTConfig, ASTForAudioClassification

        cfg = ASTConfig(**{**AST_SMALL, **config}, num_labels=n_classes)
        self.ast = ASTForAudioClassification(cfg)

    def forward(self, x):
        return self.ast(input_values=x).logits


ARCHITECTURES = {"dense": Dense, "rnn": RNN, "cnn": CNN, "crnn": CRNN, "ast": AST}
#: The input each architecture reads (core.genre.features kinds).
INPUT_OF = {"dense": "bands", "rnn": "bands", "cnn": "bands", "crnn": "bands", "ast": "ast_mel"}


def build(arch: str, n_classes: int, **kwargs) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"Unknown model {arch!r}; choose one of {', '.join(ARCHITECTURES)}.")
    return ARCHITECTURES[arch](n_classes, **kwargs)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
