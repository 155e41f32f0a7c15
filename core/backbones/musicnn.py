"""musicnn (Pons & Serra, 2019) in PyTorch: the real-music tagger under genre, instruments, tags and search.

The network and the input are exactly those of ``musicnn/models.py`` and ``extractor.py`` (0.1.0):

- input: 16 kHz mono → librosa mel (n_fft 512, hop 256, 96 bands) → float16 → ``log10(10000·x + 1)``,
  cut into 187-frame (3 s) patches;
- front end: batch norm on the input; timbral filters 7×38 and 7×67 (204 each, time padded by 3) and
  temporal filters 128×1, 64×1, 32×1 (51 each, TF "SAME" padding: the odd sample at the end), every
  conv ReLU → BN → max over the remaining frequency bins; concatenated: 561 channels per frame;
- mid end: three 7-tap 64-filter convolutions over time, the last two residual: 753 channels per frame;
- back end: max and mean over time (interleaved per channel), BN, dense 200 (+ReLU, BN: the
  "penultimate" embedding), dense to the tags, sigmoid.

Weights are converted from the wheel's TF checkpoints by ``scripts/convert_musicnn.py``.

    net = load("mtt")                           # bundled name or a folder with config.json + model.safetensors
    e = embed_audio(net, y, sr)                 # Embedding: tags (n, 50), penultimate (n, 200), pools, starts

Speed, with the same numbers (see docs/backbone.md, ``bench/bench_backbones.py``):

- ReLU → BN → max over frequency is an affine map of the max alone: channels whose BN scale is negative
  use their convolution with negated weights (built once, ``prepare``), so one max serves every channel;
- the two timbral convolutions (most of the arithmetic) run as a real DFT over the 96 mel bands: the
  correlation becomes a 7-tap product per frequency bin, and the inverse transform gives the bands back
  (2.6× fewer multiply-adds than the direct convolution; results equal to ~1e-6);
- ``load()`` runs the network in ONNX Runtime when ``model.onnx`` sits beside the weights
  (``scripts/export_musicnn_onnx.py``), one session per backbone per process; ``torch`` otherwise, or
  when ``MUSIC_STUDIO_BACKBONE_RUNTIME=torch``. Frame features (``return_frames``) are torch's.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import registry
from core.threads import one_blas_thread
from core.training import MODELS_DIR, check_cancel

SR = 16_000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
PATCH_SECONDS = PATCH_FRAMES * HOP / SR  # 2.99 s
FRAME_SECONDS = HOP / SR  # 16 ms
BN_EPS = 1e-3  # TensorFlow's default; torch's 1e-5 would shift every layer
BUNDLED_DIR = MODELS_DIR / "backbones"
BUNDLED = {"mtt": "musicnn-mtt", "msd": "musicnn-msd"}
ONNX_FILE = "model.onnx"  # beside model.safetensors, written by scripts/export_musicnn_onnx.py
RUNTIME_ENV = "MUSIC_STUDIO_BACKBONE_RUNTIME"  # "torch" forces the PyTorch path
THREADS_ENV = "MUSIC_STUDIO_BACKBONE_THREADS"  # ONNX Runtime intra-op threads (default: torch.get_num_threads())
ORT_OUTPUTS = ("tags", "penultimate", "mean_pool", "max_pool")
#: patches per call, measured on 2 cores (bench/bench_backbones.py): ONNX Runtime, PyTorch
ORT_BATCH, TORCH_BATCH = 4, 2
SPECTRAL_CHUNK = 17  # timbral channels per spectral block (204 = 12 × 17): one block's spectra stay in cache

MTT_LABELS = ['guitar', 'classical', 'slow', 'techno', 'strings', 'drums', 'electronic', 'rock', 'fast', 'piano',
              'ambient', 'beat', 'violin', 'vocal', 'synth', 'female', 'indian', 'opera', 'male', 'singing', 'vocals',
              'no vocals', 'harpsichord', 'loud', 'quiet', 'flute', 'woman', 'male vocal', 'no vocal', 'pop', 'soft',
              'sitar', 'solo', 'man', 'classic', 'choir', 'voice', 'new age', 'dance', 'male voice', 'female vocal',
              'beats', 'harp', 'cello', 'no voice', 'weird', 'country', 'metal', 'female voice', 'choral']
MSD_LABELS = ['rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s',
              'alternative rock', 'jazz', 'beautiful', 'metal', 'chillout', 'male vocalists', 'classic rock', 'soul',
              'indie rock', 'Mellow', 'electronica', '80s', 'folk', '90s', 'chill', 'instrumental', 'punk', 'oldies',
              'blues', 'hard rock', 'ambient', 'acoustic', 'experimental', 'female vocalist', 'guitar', 'Hip-Hop',
              '70s', 'party', 'country', 'easy listening', 'sexy', 'catchy', 'funk', 'electro', 'heavy metal',
              'Progressive rock', '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy']


_MEL_BASIS: list[np.ndarray] = []  # librosa's mel filterbank, built once per process


def log_mel(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """(samples,) at 16 kHz → (frames, 96) musicnn input, float32, 16 ms a frame.

    The same arithmetic as ``librosa.feature.melspectrogram`` (power 2, centred, Hann), with the filterbank
    kept instead of rebuilt per call (for a 3 s clip that rebuild cost more than the spectrogram)."""
    import librosa

    if sr != SR:
        raise ValueError(f"musicnn reads {SR} Hz audio, got {sr} Hz: resample first (core.audio.load_audio(sr=16000)).")
    if not _MEL_BASIS:
        _MEL_BASIS.append(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS))
    power = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=N_FFT, hop_length=HOP)) ** 2
    with one_blas_thread():
        mel = (_MEL_BASIS[0] @ power).T
    # the original casts to float16 before the log; kept for parity (differences < 1e-3 in the log domain)
    # (numpy 2 keeps float16 × int in float16, which overflows: go back to float32 before scaling)
    mel = np.minimum(mel, np.finfo(np.float16).max).astype(np.float16).astype(np.float32)
    return np.log10(10000 * mel + 1).astype(np.float32)


def patches(mel: np.ndarray, hop: int = PATCH_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 96) → ((n, 187, 96) patches, (n,) start frame of each), as ``extractor.batch_data`` cuts them.

    A trailing part shorter than a patch is dropped, like the original; input shorter than one patch
    gives zero patches (pad the audio first: ``pad_audio``).
    """
    starts = np.arange(0, max(mel.shape[0] - PATCH_FRAMES + 1, 0), hop)
    if len(starts) == 0:
        return np.zeros((0, PATCH_FRAMES, mel.shape[1]), np.float32), starts
    if hop == PATCH_FRAMES and mel.flags.c_contiguous:  # back-to-back patches: a view, no copy
        return mel[:len(starts) * PATCH_FRAMES].reshape(len(starts), PATCH_FRAMES, mel.shape[1]), starts
    idx = starts[:, None] + np.arange(PATCH_FRAMES)[None, :]
    return np.ascontiguousarray(mel[idx]), starts


def pad_audio(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Repeat a clip shorter than one patch until it fills one (the original's training used repeat-padding)."""
    need = int(np.ceil(PATCH_SECONDS * sr)) + N_FFT
    if len(y) >= need or len(y) == 0:
        return y
    return np.tile(y, int(np.ceil(need / len(y))))[:need]


class _ConvBlock(nn.Module):
    """Conv → ReLU → BN (TF order), optional max over frequency."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int]):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


def _relu_bn_max(z: torch.Tensor, bn: nn.BatchNorm2d, dim: int) -> torch.Tensor:
    """``bn(relu(z)).amax(dim)`` in eval mode from the max and the min of ``z`` (the reference formula).

    BN is ``a·x + b`` per channel and ReLU is monotone, so the max of the result is ``a·relu(max z) + b``
    where ``a ≥ 0`` and ``a·relu(min z) + b`` where ``a < 0``. ``z`` has channels at dim 1 unless ``dim`` is 1
    (then at dim 2); the result is (n, channels, T). The network itself needs only the max: ``_signed_max``.
    """
    a, b = _bn_affine(bn)
    hi, lo = z.amax(dim=dim).float(), z.amin(dim=dim).float()
    a_, b_ = a.view(1, -1, 1), b.view(1, -1, 1)
    return a_ * F.relu(torch.where(a_ >= 0, hi, lo)) + b_


def _bn_affine(bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm as ``a·x + b`` per channel."""
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return a, bn.bias - bn.running_mean * a


def _bn_sign(bn: nn.Module) -> torch.Tensor:
    """+1 where the BN scale is ≥ 0, −1 where it is negative (the sign of ``a`` in ``_bn_affine``)."""
    return torch.where(bn.weight >= 0, 1.0, -1.0).to(bn.weight.dtype)  # sqrt(var + eps) > 0


def _signed_max(m: torch.Tensor, s: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``bn(relu(z)).amax(freq)`` from ``m = max over frequency of s·z`` (``s`` = ±1 per channel, the BN sign).

    Where ``a ≥ 0``, ``s·m`` is max z; where ``a < 0``, max(−z) = −min z, so ``s·m`` is min z: the reference
    formula (``_relu_bn_max``) with one max instead of a max and a min. ``m`` is (n, channels, T).
    """
    return a.view(1, -1, 1) * F.relu(s.view(1, -1, 1) * m) + b.view(1, -1, 1)


def _dft_matrix(n: int) -> np.ndarray:
    """(n, 2K) real DFT (K = n//2 + 1 bins): ``x @ D`` gives ``[re X_0, im X_0, re X_1, …]``."""
    ang = 2 * np.pi * np.outer(np.arange(n), np.arange(n // 2 + 1)) / n
    return np.stack([np.cos(ang), -np.sin(ang)], 2).reshape(n, -1)


def _idft_matrix(n: int, width: int) -> np.ndarray:
    """(2K, width): the real inverse DFT of length ``n`` (Hermitian spectrum), first ``width`` samples only."""
    k = np.arange(n // 2 + 1)
    c = np.where((k == 0) | (2 * k == n), 1.0, 2.0) / n
    ang = 2 * np.pi * np.outer(k, np.arange(width)) / n
    return np.stack([c[:, None] * np.cos(ang), -c[:, None] * np.sin(ang)], 1).reshape(-1, width)


def _spectral_kernel(w: np.ndarray, n: int) -> np.ndarray:
    """Conv kernels (C, kt, L) over (time, frequency) → (K, 2C, 2kt) per-bin matrices for ``_spectral_max``.

    Correlating a band row of ``n`` values with an ``L``-tap filter is, for the ``n − L + 1`` valid outputs,
    the circular correlation: in the DFT, ``Z_k = G_k·X_k`` with ``G_k = Σ_j w_j e^{+2πi jk/n}``. Per bin ``k``
    the complex product over the ``kt`` time taps is a real (2C × 2kt) matrix: rows (re, im) × channel,
    columns (time tap, re/im of the input).
    """
    C, kt, L = w.shape
    ang = 2 * np.pi * np.outer(np.arange(L), np.arange(n // 2 + 1)) / n  # (L, K)
    gr = np.einsum("ctj,jk->kct", w, np.cos(ang))
    gi = np.einsum("ctj,jk->kct", w, np.sin(ang))
    B = np.empty((n // 2 + 1, 2, C, kt, 2))
    B[:, 0, :, :, 0], B[:, 0, :, :, 1] = gr, -gi  # re Z = gr·re X − gi·im X
    B[:, 1, :, :, 0], B[:, 1, :, :, 1] = gi, gr  # im Z = gi·re X + gr·im X
    return B.reshape(n // 2 + 1, 2 * C, 2 * kt)


def _spectral_max(U: torch.Tensor, blocks: list[torch.Tensor], idft_t: torch.Tensor, n: int, T: int) -> torch.Tensor:
    """Max over frequency of a timbral convolution, in the DFT domain: (n, C, T).

    ``U`` (K, 2kt, n·T): each frame's spectrum over the bands, unfolded over the time taps; ``blocks``: the
    ``_spectral_kernel`` rows of ``SPECTRAL_CHUNK`` channels each; ``idft_t`` (2K, bands out).
    """
    outs = []
    for B in blocks:
        Z = torch.matmul(B, U)  # (K, 2c, n·T): the spectra of c channels
        z = torch.matmul(Z.reshape(2 * Z.shape[0], -1).t(), idft_t)  # (c·n·T, bands): back to the bands
        outs.append(z.amax(1))
    return torch.cat(outs).reshape(-1, n, T).transpose(0, 1)


@dataclass
class _Front:
    """The front end's weights rearranged for inference (from ``Musicnn.prepare``; nothing here is saved)."""

    key: tuple
    dft_t: torch.Tensor  # (2K, 96): the real DFT over the bands, transposed
    timbral: list[dict]  # spectral blocks, inverse DFT, sign-folded conv weights (bf16 path), post-max affine
    temporal: list[dict]  # sign-folded conv weights and biases, post-max affine


@dataclass
class MusicnnOutput:
    """What one forward pass gives, per 3 s patch (n patches)."""

    logits: torch.Tensor  # (n, tags)
    penultimate: torch.Tensor  # (n, 200) the back end's embedding
    mean_pool: torch.Tensor  # (n, 753)
    max_pool: torch.Tensor  # (n, 753)
    frames: torch.Tensor | None = None  # (n, 187, 753) mid-end features per 16 ms frame

    @property
    def tags(self) -> torch.Tensor:
        return torch.sigmoid(self.logits)


try:  # save_pretrained / from_pretrained / push_to_hub, as Hub users expect
    from huggingface_hub import PyTorchModelHubMixin as _HubMixin
except ImportError:  # pragma: no cover
    class _HubMixin:  # type: ignore[no-redef]
        pass


_ORT_LOCK = threading.Lock()


class Musicnn(nn.Module, _HubMixin):
    """The musicnn tagger. ``forward(x)`` takes (n, 187, 96) log-mel patches."""

    def __init__(self, n_mels: int = N_MELS, n_tags: int = 50, midend_filters: int = 64, backend_units: int = 200,
                 labels: list[str] | None = None, source: str = ""):
        super().__init__()
        self.n_mels, self.labels, self.source = n_mels, list(labels or []), source
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.timbral = nn.ModuleList([_ConvBlock(1, 204, (7, int(0.4 * n_mels))),
                                      _ConvBlock(1, 204, (7, int(0.7 * n_mels)))])
        self.temporal = nn.ModuleList([_ConvBlock(1, 51, (k, 1)) for k in (128, 64, 32)])
        front = 2 * 204 + 3 * 51  # 561
        self.mid = nn.ModuleList([nn.Conv1d(front, midend_filters, 7, padding=3),
                                  nn.Conv1d(midend_filters, midend_filters, 7, padding=3),
                                  nn.Conv1d(midend_filters, midend_filters, 7, padding=3)])
        self.mid_bn = nn.ModuleList([nn.BatchNorm1d(midend_filters, eps=BN_EPS) for _ in range(3)])
        self.channels = front + 3 * midend_filters  # 753
        self.pool_bn = nn.BatchNorm1d(2 * self.channels, eps=BN_EPS)
        self.dense = nn.Linear(2 * self.channels, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=BN_EPS)
        self.out = nn.Linear(backend_units, n_tags)
        #: bfloat16 front-end convolutions (tags move by < 0.01, see the card). Off by default: the parity
        #: test holds the float32 path to the original. PyTorch only (``embed`` does not use ONNX Runtime then).
        self.fast = False
        #: float32 timbral convolutions through the DFT (``_spectral_max``); False: direct convolutions
        self.spectral = True
        #: the exported network ``embed`` runs in ONNX Runtime when the file exists (set by ``load``)
        self.onnx_path: Path | None = None
        self._front: _Front | None = None
        self._ort = None  # (path, InferenceSession or None, why not)

    # ------------------------------------------------------------------ the front end, prepared once

    def _front_key(self) -> tuple:
        """Which weights ``prepare`` saw: storage and version counter of each front-end tensor (a tensor made in
        inference mode, e.g. a backbone first loaded inside ``torch.inference_mode``, has no counter)."""
        ts = [t for blk in (*self.timbral, *self.temporal) for t in (*blk.conv.parameters(), *blk.bn.parameters(),
                                                                     blk.bn.running_mean, blk.bn.running_var)]
        return tuple((t.data_ptr(), -1 if t.is_inference() else t._version, t.device) for t in ts)

    def prepare(self) -> _Front:
        """Rearrange the front end's weights for inference, once (again only if the weights change).

        Sign-folded convolutions (the channels whose BN scale is negative negated, so that one max over
        frequency serves all: ``_signed_max``) and the timbral filters' per-bin DFT matrices. The module's
        parameters and the weights on disk are untouched.
        """
        key = self._front_key()
        if self._front is not None and self._front.key == key:
            return self._front
        with torch.inference_mode(False), torch.no_grad():
            dev = self.input_bn.weight.device
            n = self.n_mels
            f32 = lambda a: torch.tensor(a, dtype=torch.float32, device=dev)  # noqa: E731
            timbral, temporal = [], []
            for blk in self.timbral:
                s = _bn_sign(blk.bn)
                w = blk.conv.weight * s.view(-1, 1, 1, 1)  # (C, 1, 7, L)
                B = _spectral_kernel(w[:, 0].double().cpu().numpy(), n)
                C = w.shape[0]
                chunks = [np.concatenate([B[:, i:i + SPECTRAL_CHUNK], B[:, C + i:C + i + SPECTRAL_CHUNK]], 1)
                          for i in range(0, C, SPECTRAL_CHUNK)]
                a, b = _bn_affine(blk.bn)
                timbral.append({"blocks": [f32(np.ascontiguousarray(c)) for c in chunks],
                                "idft_t": f32(_idft_matrix(n, n - w.shape[3] + 1)),
                                "weight": w.detach().clone(), "bias": (blk.conv.bias * s).detach().clone(),
                                "s": s.detach().clone(), "a": a.detach().clone(), "b": b.detach().clone()})
            for blk in self.temporal:
                s = _bn_sign(blk.bn)
                a, b = _bn_affine(blk.bn)
                temporal.append({"weight": (blk.conv.weight * s.view(-1, 1, 1, 1)).detach().clone(),
                                 "bias": (blk.conv.bias * s).detach().clone(),
                                 "s": s.detach().clone(), "a": a.detach().clone(), "b": b.detach().clone()})
            self._front = _Front(key, f32(_dft_matrix(n).T), timbral, temporal)
        return self._front

    def _front_end(self, x: torch.Tensor) -> torch.Tensor:
        """(n, T, 96) input-normalised log-mel → (n, 561, T): the five filter banks, each max-pooled over frequency."""
        n, T, n_freq = x.shape
        p = self.prepare()
        feats = []
        if self.fast:  # bfloat16 direct convolutions; channels_last: oneDNN's fast path for a 1-channel input
            dt = torch.bfloat16
            xp = F.pad(x.unsqueeze(1), (0, 0, 3, 3)).contiguous(memory_format=torch.channels_last).to(dt)
            for t in p.timbral:
                m = F.conv2d(xp, t["weight"].to(dt), t["bias"].to(dt)).amax(dim=3).float()
                feats.append(_signed_max(m, t["s"], t["a"], t["b"]))
        elif self.spectral:
            kt = p.timbral[0]["weight"].shape[2]
            K = p.dft_t.shape[0] // 2
            xp = F.pad(x, (0, 0, (kt - 1) // 2, kt // 2)).permute(2, 0, 1)  # (bands, n, T + 6)
            X = torch.matmul(p.dft_t, xp.reshape(n_freq, -1)).reshape(K, 1, 2, n, -1)  # the frames' spectra
            U = torch.cat([X[..., i:i + T] for i in range(kt)], 1).reshape(K, 2 * kt, -1)  # (K, 2kt, n·T)
            for t in p.timbral:
                m = _spectral_max(U, t["blocks"], t["idft_t"], n, T) + t["bias"].view(1, -1, 1)
                feats.append(_signed_max(m, t["s"], t["a"], t["b"]))
        else:
            xp = F.pad(x.unsqueeze(1), (0, 0, 3, 3)).contiguous(memory_format=torch.channels_last)
            for t in p.timbral:
                feats.append(_signed_max(F.conv2d(xp, t["weight"], t["bias"]).amax(dim=3), t["s"], t["a"], t["b"]))
        if torch.onnx.is_in_onnx_export():
            # ONNX Runtime: a k×1 convolution over (n, 1, T, bands) and a (1, bands) MaxPool, both in its blocked
            # layout (16 channels a block: 51 filters padded with zero ones to 64, else the whole map is copied
            # out of that layout); symmetric padding k/2 gives one extra frame, dropped after the pool
            x4 = x.unsqueeze(1)
            for t in p.temporal:
                C, k = t["weight"].shape[0], t["weight"].shape[2]
                pad = -C % 16
                w = torch.cat([t["weight"], t["weight"].new_zeros(pad, *t["weight"].shape[1:])])
                z = F.max_pool2d(F.conv2d(x4, w, F.pad(t["bias"], (0, pad)), padding=(k // 2, 0)), (1, self.n_mels))
                feats.append(_signed_max(z.flatten(2)[:, :C, 1:], t["s"], t["a"], t["b"]))  # (n, C + pad, T + 1)
        else:
            # a k×1 kernel is a 1-D conv along time with frequency folded into the batch: ≈4× faster than conv2d
            xt = x.transpose(1, 2).reshape(n * n_freq, 1, T)
            dt = torch.bfloat16 if self.fast else x.dtype
            for t in p.temporal:
                k = t["weight"].shape[2]
                z = F.conv1d(F.pad(xt, ((k - 1) // 2, k - 1 - (k - 1) // 2)).to(dt), t["weight"][:, :, :, 0].to(dt),
                             t["bias"].to(dt))  # TF "SAME": the odd sample at the end
                feats.append(_signed_max(z.reshape(n, n_freq, -1, T).amax(dim=1).float(), t["s"], t["a"], t["b"]))
        return torch.cat(feats, 1)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(n, T, 96) → (n, 753, T): front-end and mid-end features per frame."""
        front = self._front_end(self.input_bn(x.unsqueeze(1)).squeeze(1))  # (n, 561, T)
        h1 = self.mid_bn[0](F.relu(self.mid[0](front)))
        h2 = self.mid_bn[1](F.relu(self.mid[1](h1))) + h1
        h3 = self.mid_bn[2](F.relu(self.mid[2](h2))) + h2
        return torch.cat([front, h1, h2, h3], 1)

    def forward(self, x: torch.Tensor, return_frames: bool = False) -> MusicnnOutput:
        f = self.frame_features(x)
        mx, mean = f.amax(dim=2), f.mean(dim=2)
        pooled = torch.stack([mx, mean], 2).flatten(1)  # TF concatenates (753, 1) pairs: max, mean interleaved
        pen = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        return MusicnnOutput(self.out(pen), pen, mean, mx, f.transpose(1, 2) if return_frames else None)

    # ------------------------------------------------------------------ ONNX Runtime

    def _torch_because(self) -> str:
        """Why ``embed`` runs PyTorch whatever the exported file, or "" (checked on every call: cheap)."""
        if os.environ.get(RUNTIME_ENV, "").strip().lower() == "torch":
            return f"{RUNTIME_ENV}=torch"
        if self.fast:
            return "the bfloat16 front end is PyTorch's"
        if self.onnx_path is None:
            return "no exported network (load() a bundled backbone, or a folder with model.onnx)"
        if self.input_bn.weight.device.type != "cpu":
            return f"the network is on {self.input_bn.weight.device}"
        return ""

    def _session(self):
        """The ONNX Runtime session ``embed`` uses (one per backbone per process), or None for PyTorch."""
        if self._torch_because():
            return None
        path = Path(self.onnx_path)
        if self._ort is None or self._ort[0] != path:
            with _ORT_LOCK:
                if self._ort is None or self._ort[0] != path:
                    self._ort = (path, *_open_session(path))
        return self._ort[1]

    @property
    def runtime(self) -> str:
        """What ``embed`` runs on now: ``"onnxruntime"`` or ``"torch"`` (``runtime_note`` says why not ONNX)."""
        return "onnxruntime" if self._session() is not None else "torch"

    @property
    def runtime_note(self) -> str:
        return self._torch_because() or ("" if self._session() is not None else self._ort[2])

    # ------------------------------------------------------------------ numpy in, numpy out

    @torch.inference_mode()
    def embed(self, X: np.ndarray, batch: int | None = None, return_frames: bool = False) -> dict[str, np.ndarray]:
        """(n, 187, 96) patches → numpy ``tags`` (n, tags), ``penultimate`` (n, 200), ``mean_pool``/``max_pool``
        (n, 753) and, when asked, ``frames`` (n, 187, 753) (always PyTorch's: the exported network has no frames).

        ONNX Runtime when ``load`` found the exported network (``runtime``), else PyTorch; ``batch`` patches a
        call (default ``ORT_BATCH`` / ``TORCH_BATCH``), a cancelled job stops between two calls."""
        keys = [*ORT_OUTPUTS] + (["frames"] if return_frames else [])
        if len(X) == 0:
            return {k: np.zeros((0,), np.float32) for k in keys}
        X = np.ascontiguousarray(X, dtype=np.float32)
        sess = None if return_frames else self._session()
        if sess is not None:
            batch = batch or ORT_BATCH
            out = None
            for i in range(0, len(X), batch):
                check_cancel()  # a cancelled request stops here within one batch (~40 ms), not after the song
                res = sess.run(None, {"patches": X[i:i + batch]})
                if out is None:
                    out = {k: np.empty((len(X), *r.shape[1:]), np.float32) for k, r in zip(ORT_OUTPUTS, res)}
                for k, r in zip(ORT_OUTPUTS, res):
                    out[k][i:i + len(r)] = r
            return out
        batch = batch or TORCH_BATCH
        dev = next(self.parameters()).device
        parts: dict[str, list] = {k: [] for k in keys}
        for i in range(0, len(X), batch):
            check_cancel()
            o = self(torch.from_numpy(X[i:i + batch]).to(dev), return_frames)
            for k in keys:
                parts[k].append(getattr(o, k).float().cpu().numpy())
        return {k: np.concatenate(v) for k, v in parts.items()}


def ort_threads() -> int:
    """ONNX Runtime intra-op threads: ``MUSIC_STUDIO_BACKBONE_THREADS``, else torch's thread count."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "")))
    except ValueError:
        return max(1, torch.get_num_threads())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _open_session(path: Path):
    """(session, "") or (None, why not). The export must be of the weights beside it (its metadata says which)."""
    if not path.exists():
        return None, f"no {path.name} beside the weights (scripts/export_musicnn_onnx.py writes it)"
    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime is not installed"
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = ort_threads()
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        # the workers spin while a call runs (faster than sleeping between its ops) but stop when it returns:
        # the other backbone's session, and the rest of the app, get the cores back at once
        so.add_session_config_entry("session.force_spinning_stop", "1")
        # no arena: it kept each session's peak for good (60 MB more resident after a song, the same speed)
        so.enable_cpu_mem_arena = False
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        want = sess.get_modelmeta().custom_metadata_map.get("weights_sha256")
        weights = path.parent / "model.safetensors"
        if want and weights.exists() and file_sha256(weights) != want:
            return None, (f"{path.name} was exported from other weights than {weights.name}: "
                          "run scripts/export_musicnn_onnx.py")
        return sess, ""
    except Exception as e:  # a broken or foreign file: PyTorch still answers
        return None, f"{path.name} could not be opened: {type(e).__name__}: {e}"


@dataclass
class Embedding:
    """The backbone's view of one recording: per-patch tags and embeddings with their start times."""

    labels: list[str]
    starts: np.ndarray  # (n,) seconds
    tags: np.ndarray  # (n, tags) sigmoid probabilities: the taggram
    penultimate: np.ndarray  # (n, 200)
    mean_pool: np.ndarray  # (n, 753)
    max_pool: np.ndarray  # (n, 753)
    padded: bool = False  # the clip was shorter than one patch and was repeat-padded
    notices: list[str] = field(default_factory=list)

    def pooled(self) -> np.ndarray:
        """(n, 1506) per-patch [max, mean] of the mid-end features: what the genre/instrument heads read."""
        return np.concatenate([self.max_pool, self.mean_pool], 1)


def audio_mel(y: np.ndarray, sr: int = SR) -> tuple[np.ndarray, bool]:
    """(log-mel the backbones read, padded?) for mono 16 kHz audio: compute once, pass to ``embed_audio`` of each."""
    y = np.asarray(y, dtype=np.float32)
    # Shorter than a patch: repeated to fill it, and the answer is less reliable (the flag the tabs show).
    # A clip of exactly 3 s lacks only the STFT's last few ms: padded too, but not worth a warning.
    padded = len(y) < PATCH_SECONDS * sr
    if len(y) < int(np.ceil(PATCH_SECONDS * sr)) + N_FFT:
        y = pad_audio(y, sr)
    return log_mel(y, sr), padded


def embed_audio(net: Musicnn, y: np.ndarray, sr: int = SR, hop_seconds: float = PATCH_SECONDS,
                mel: tuple[np.ndarray, bool] | None = None) -> Embedding:
    """Mono 16 kHz audio → ``Embedding`` (one row per 3 s patch, ``hop_seconds`` apart).

    ``mel``: ``audio_mel(y, sr)`` when the caller already has it (both backbones read the same input)."""
    mel, padded = audio_mel(y, sr) if mel is None else mel
    hop = max(1, int(round(hop_seconds / FRAME_SECONDS)))
    X, start_frames = patches(mel, hop=min(hop, PATCH_FRAMES) if hop_seconds < PATCH_SECONDS else PATCH_FRAMES)
    e = net.embed(X)
    return Embedding(net.labels, start_frames * FRAME_SECONDS, e["tags"], e["penultimate"], e["mean_pool"],
                     e["max_pool"], padded)


def load(name_or_path: str = "mtt") -> Musicnn:
    """A converted musicnn by bundled name (``mtt``, ``msd``) or a folder (config.json + model.safetensors).

    Loaded once per process and shared (``core.registry``), in eval mode on the registry's device; ``embed``
    runs it in ONNX Runtime when the folder holds ``model.onnx`` (on CPU; see ``Musicnn.runtime``).
    """
    folder = BUNDLED_DIR / BUNDLED[name_or_path] if name_or_path in BUNDLED else Path(name_or_path)
    if not (folder / "config.json").exists():
        raise ValueError(f"Unknown backbone {name_or_path!r}: use {', '.join(BUNDLED)} or a folder with config.json "
                         "(run scripts/convert_musicnn.py to make the bundled ones).")

    def _load():
        net = Musicnn.from_pretrained(str(folder)).eval().to(registry.device())
        net.onnx_path = folder / ONNX_FILE
        net.prepare()
        return net

    return registry.get(f"backbone:{folder.resolve()}", _load)


# ----------------------------------------------------------------------------- conversion

def _bn(prefix: str, t: dict) -> dict[str, np.ndarray]:
    return {"weight": t[f"{prefix}/gamma"], "bias": t[f"{prefix}/beta"],
            "running_mean": t[f"{prefix}/moving_mean"], "running_var": t[f"{prefix}/moving_variance"]}


def state_dict_from_tf(t: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Map musicnn's TF variable names (from ``read_checkpoint``) onto ``Musicnn``'s state dict.

    TF creates the layers in graph order: batch_normalization (input), conv2d/_1 (timbral 7×38, 7×67) with
    BN _1/_2, conv2d_2.._4 (temporal 128, 64, 32) with BN _3.._5, conv2d_5.._7 (mid end) with BN _6.._8,
    BN _9 on the pooled features, dense (→200) with BN _10, dense_1 (→tags).
    Conv kernels (kh, kw, in, out) are permuted to (out, in, kh, kw); dense kernels are transposed.
    """
    sd: dict[str, np.ndarray] = {}

    def put(prefix, d):
        for k, v in d.items():
            sd[f"{prefix}.{k}"] = v

    put("input_bn", _bn("batch_normalization", t))
    convs = ["timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2"]
    for i, name in enumerate(convs):
        tf_name = "conv2d" if i == 0 else f"conv2d_{i}"
        sd[f"{name}.conv.weight"] = t[f"{tf_name}/kernel"].transpose(3, 2, 0, 1)
        sd[f"{name}.conv.bias"] = t[f"{tf_name}/bias"]
        put(f"{name}.bn", _bn(f"batch_normalization_{i + 1}", t))
    for j in range(3):
        k = t[f"conv2d_{5 + j}/kernel"]  # (7, C_in, 1, out): a 1-D conv over time with C_in as "frequency"
        sd[f"mid.{j}.weight"] = k[:, :, 0, :].transpose(2, 1, 0)
        sd[f"mid.{j}.bias"] = t[f"conv2d_{5 + j}/bias"]
        put(f"mid_bn.{j}", _bn(f"batch_normalization_{6 + j}", t))
    put("pool_bn", _bn("batch_normalization_9", t))
    sd["dense.weight"], sd["dense.bias"] = t["dense/kernel"].T, t["dense/bias"]
    put("dense_bn", _bn("batch_normalization_10", t))
    sd["out.weight"], sd["out.bias"] = t["dense_1/kernel"].T, t["dense_1/bias"]
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}
