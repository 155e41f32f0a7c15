"""aiSFX (Ma & Lerch, ISMIR 2022) in plain PyTorch: a sound-effects embedding trained on professional SFX libraries,
the sample library's third similarity space.

The input and network are those of ``aisfx`` 0.1.2's inference path (``spectrogram_type="essentia"``):

- input: mono 44.1 kHz (the mean of the channels; no level normalisation), frames of 2048 every 1024 samples, the
  first centred on sample 0 (essentia's FrameCutter), symmetric Hann, |rfft|², 96 HTK-mel bands over 0–22.05 kHz
  (essentia's ``warping`` / ``unit_sum`` filters), ``log10(1e4·x + 1)``, divided by the training set's maximum;
- blocks of 100 frames (2.3 s) every 50, the last partial block dropped; a clip shorter than one block is
  zero-padded to one (the package refuses those);
- network: four blocks of 2 × (3×3 conv without bias, batch norm, ReLU), 64/128/256/512 channels, 2×2 max-pool
  after the first three, then the mean over frequency and the max over time: 512 numbers per block;
- one vector per file: the mean over its blocks (first ``EMBED_SECONDS``).

The package's nine per-dataset classifier heads are not kept. Weights are converted from the wheel by
``scripts/convert_aisfx.py`` (float16, CC BY 4.0: see the LICENSE.md beside them).

    net = load()                              # bundled, or a folder with config.json + model.safetensors
    v = embed(net, y, sr)                     # (512,) float32
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import registry
from core.audio import resample
from core.threads import one_blas_thread
from core.training import MODELS_DIR

SR = 44_100
N_FFT, HOP, N_MELS = 2048, 1024, 96
BLOCK, BLOCK_HOP = 100, 50  # frames: 2.3 s blocks, half-overlapping
SPEC_MAX = 9.457798957824707  # the package's "original" normalisation: the training spectrograms' maximum
EMBED_SECONDS = 30.0
DIM = 512
KIND = "aisfx-embedding"
BUNDLED_DIR = MODELS_DIR / "backbones" / "aisfx"


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


@functools.cache
def mel_filters(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1): essentia's MelBands (htkMel, weighting "warping", normalize "unit_sum"), which
    librosa does not offer (held to essentia's own matrix by the parity test through the spectrogram)."""
    bins = n_fft // 2 + 1
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(sr / 2), n_mels + 2))
    hz_per_bin = (sr / 2.0) / (bins - 1)
    W = np.zeros((n_mels, bins))
    for i in range(n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        j = np.arange(int(lo / hz_per_bin + 0.5), min(int(hi / hz_per_bin + 0.5) + 1, bins))
        f = j * hz_per_bin
        up, down = (f >= lo) & (f < mid), (f >= mid) & (f < hi)
        W[i, j[up]] = (_hz_to_mel(f[up]) - _hz_to_mel(lo)) / (_hz_to_mel(mid) - _hz_to_mel(lo))
        W[i, j[down]] = (_hz_to_mel(hi) - _hz_to_mel(f[down])) / (_hz_to_mel(hi) - _hz_to_mel(mid))
        if W[i].sum() > 0:
            W[i] /= W[i].sum()
    return W


def spectrogram(y: np.ndarray) -> np.ndarray:
    """(frames, 96) float32 ``log10(1e4·mel power + 1)`` of mono 44.1 kHz audio, framed as essentia frames it."""
    y = np.asarray(y, np.float32)
    starts = np.arange(-HOP, max(len(y), 1), HOP)
    padded = np.concatenate([np.zeros(HOP, np.float32), y, np.zeros(N_FFT, np.float32)])
    frames = padded[(starts + HOP)[:, None] + np.arange(N_FFT)[None]]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / (N_FFT - 1))).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    with one_blas_thread():
        mel = power @ mel_filters().T
    return np.log10(1e4 * mel + 1.0).astype(np.float32)


def blocks(spec: np.ndarray) -> np.ndarray:
    """(n, 100, 96) blocks of a (frames, 96) spectrogram: ``aisfx.preprocessing.blocking`` (hop 50, the last
    partial block dropped), at least one (zero-padded)."""
    n = max(1, (spec.shape[0] - BLOCK) // BLOCK_HOP + 1)
    data = np.vstack([spec, np.zeros((BLOCK, spec.shape[1]), spec.dtype)])
    return np.stack([data[i * BLOCK_HOP:i * BLOCK_HOP + BLOCK] for i in range(n)])


class _ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor, pool: bool) -> torch.Tensor:
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.max_pool2d(x, 2) if pool else x


class EmbeddingNet(nn.Module):
    """(batch, 100, 96) blocks → (batch, 512); parameter names as in the package's ``embedding_net``."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.conv_block1 = _ConvBlock(1, width)
        self.conv_block2 = _ConvBlock(width, 2 * width)
        self.conv_block3 = _ConvBlock(2 * width, 4 * width)
        self.conv_block4 = _ConvBlock(4 * width, 8 * width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unsqueeze(1)
        for i, block in enumerate((self.conv_block1, self.conv_block2, self.conv_block3, self.conv_block4)):
            x = block(x, pool=i < 3)
        return x.mean(dim=3).amax(dim=2)


def from_dir(folder) -> EmbeddingNet:
    """The network in eval mode from ``folder``/config.json (``{"kind": "aisfx-embedding", "kwargs": {...}}``)
    and ``model.safetensors`` (float16 on disk, float32 here), uncached."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    if config.get("kind") != KIND:
        raise ValueError(f"{folder} holds a {config.get('kind')!r} model, not {KIND!r}.")
    net = EmbeddingNet(**config.get("kwargs", {}))
    net.load_state_dict({k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()})
    return net.eval()


def load(name_or_path: str | Path = "aisfx") -> EmbeddingNet:
    """The bundled network (``"aisfx"``) or one in a folder, once per process (``core.registry``), on CPU."""
    folder = BUNDLED_DIR if str(name_or_path) == "aisfx" else Path(name_or_path)
    if not (folder / "config.json").exists():
        raise ValueError(f"No aiSFX model in {folder}: run scripts/convert_aisfx.py (it writes the bundled one).")
    return registry.get(f"aisfx:{folder.resolve()}", lambda: from_dir(folder))


def embed_blocks(net: EmbeddingNet, y: np.ndarray, sr: int, seconds: float | None = EMBED_SECONDS) -> np.ndarray:
    """(blocks, 512) float32 of mono audio ``y`` at ``sr``: what the package returns per 2.3 s block."""
    y = np.asarray(y, np.float32)
    y = resample(y, sr, SR) if sr != SR else y
    if seconds:
        y = y[: int(seconds * SR)]
    x = torch.from_numpy(np.ascontiguousarray(blocks(spectrogram(y) / SPEC_MAX), dtype=np.float32))
    with torch.inference_mode():
        return net(x).numpy()


def embed(net: EmbeddingNet, y: np.ndarray, sr: int) -> np.ndarray:
    """(512,) float32: the mean over the blocks of the first ``EMBED_SECONDS`` of mono audio ``y``."""
    return embed_blocks(net, y, sr).mean(0).astype(np.float32)
