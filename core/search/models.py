"""The paper's feature learner: a 5-layer conv encoder trained with BYOL + an autoencoder loss.

Everything is 1-D convolution over time with the 128 mel bins as input channels,
so the encoder turns a (128, frames) log-mel into a (128, frames) vector sequence
at the same frame rate as MFCC, and the losses compare frames one to one (the
augmentations never move audio in time).

    E   encoder   5 × conv(k=3, 128 ch)        the feature extractor we keep
    P   projector 2 × conv                      BYOL
    Pr  predictor 2 × conv                      BYOL, online branch only (breaks the symmetry)
    D   decoder   2 × conv back to 128 mels     autoencoder
    E_f, P_f      EMA copies of E and P         BYOL's "frozen" target (Eq. 2)
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class EncoderConfig:
    n_mels: int = 128
    channels: int = 128
    layers: int = 5
    kernel: int = 3
    head_layers: int = 2  # projector, predictor and decoder depth
    residual: bool = True  # features = input mel + conv stack (needs channels == n_mels)
    ema: float = 0.99  # alpha in Eq. 2

    def to_dict(self) -> dict:
        return asdict(self)


def conv_stack(c_in: int, c_hidden: int, c_out: int, layers: int, kernel: int) -> nn.Sequential:
    """``layers`` same-length convolutions with BatchNorm + ReLU between them (none after the last)."""
    mods: list[nn.Module] = []
    for i in range(layers):
        a = c_in if i == 0 else c_hidden
        b = c_out if i == layers - 1 else c_hidden
        mods.append(nn.Conv1d(a, b, kernel, padding=kernel // 2))
        if i < layers - 1:
            mods += [nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*mods)


class Encoder(nn.Module):
    """(batch, n_mels, frames) normalised log-mel → (batch, channels, frames) features."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.net = conv_stack(cfg.n_mels, cfg.channels, cfg.channels, cfg.layers, cfg.kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The skip keeps every mel bin's detail; the convolutions learn what to add to it.
        return x + self.net(x) if self.cfg.residual else self.net(x)


class BYOLAE(nn.Module):
    """Online network (E, P, Pr, D) plus the EMA target (E_f, P_f); ``forward`` returns both losses."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.encoder = Encoder(cfg)
        self.projector = conv_stack(c, c, c, cfg.head_layers, cfg.kernel)
        self.predictor = conv_stack(c, c, c, cfg.head_layers, cfg.kernel)
        self.decoder = conv_stack(c, c, cfg.n_mels, cfg.head_layers, cfg.kernel)
        self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)

    def forward(self, x: torch.Tensor, x_aug: torch.Tensor, x_clean: torch.Tensor | None = None):
        """BYOL loss (Eq. 1) between views ``x`` and ``x_aug``, and the autoencoder loss (Eq. 3).

        The autoencoder sees the clean input (Eq. 3 as written: D(E(x)) vs x), which keeps
        quiet details in the features; a denoising variant (reconstructing the clean input
        from the augmented one) smoothed away the quiet one-shots the search looks for.
        """
        h = self.encoder(x)
        online = F.normalize(self.predictor(self.projector(h)), dim=1)
        with torch.no_grad():
            target = F.normalize(self.target_projector(self.target_encoder(x_aug)), dim=1)
        byol = (online - target).pow(2).sum(dim=1).mean()  # ‖N(Pr(P(E(x)))) − N(P_f(E_f(x')))‖², per frame
        if x_clean is None:
            ae = F.mse_loss(self.decoder(h), x)
        else:
            ae = F.mse_loss(self.decoder(self.encoder(x_clean)), x_clean)
        return byol, ae

    @torch.no_grad()
    def update_target(self) -> None:
        """θ_f ← α θ_f + (1 − α) θ (Eq. 2); BatchNorm statistics are copied."""
        a = self.cfg.ema
        for online, target in ((self.encoder, self.target_encoder), (self.projector, self.target_projector)):
            for p, q in zip(online.parameters(), target.parameters()):
                q.mul_(a).add_(p.detach(), alpha=1 - a)
            for b, c in zip(online.buffers(), target.buffers()):
                c.copy_(b)
