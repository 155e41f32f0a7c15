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
    out = net.embed_audio(y, sr)                # MusicnnOutput: tags (n, 50), penultimate (n, 200), frames
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import registry
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

MTT_LABELS = ['guitar', 'classical', 'slow', 'techno', 'strings', 'drums', 'electronic', 'rock', 'fast', 'piano',
              'ambient', 'beat', 'violin', 'vocal', 'synth', 'female', 'indian', 'opera', 'male', 'singing', 'vocals',
              'no vocals', 'harpsichord', 'loud', 'quiet', 'flute', 'woman', 'male vocal', 'no vocal', 'pop', 'soft',
              'sitar', 'solo', 'man', 'classic', 'choir', 'voice', 'new age', 'dance', 'male voice', 'female vocal',
              'beats', 'harp', 'cello', 'no voice', 'weird', 'country', 'metal', 'female voice', 'choral']
MSD_LABELS = ['rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s', 'alternative rock',
              'jazz', 'beautiful', 'metal', 'chillout', 'male vocalists', 'classic rock', 'soul', 'indie rock', 'Mellow',
              'electronica', '80s', 'folk', '90s', 'chill', 'instrumental', 'punk', 'oldies', 'blues', 'hard rock',
              'ambient', 'acoustic', 'experimental', 'female vocalist', 'guitar', 'Hip-Hop', '70s', 'party', 'country',
              'easy listening', 'sexy', 'catchy', 'funk', 'electro', 'heavy metal', 'Progressive rock', '60s', 'rnb',
              'indie pop', 'sad', 'House', 'happy']


def log_mel(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """(samples,) at 16 kHz → (frames, 96) musicnn input, float32, 16 ms a frame."""
    import librosa

    if sr != SR:
        raise ValueError(f"musicnn reads {SR} Hz audio, got {sr} Hz: resample first (core.audio.load_audio(sr=16000)).")
    mel = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS).T
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
    """``bn(relu(z)).amax(dim)`` in eval mode without the elementwise passes over ``z`` (≈2× faster here).

    BN is ``a·x + b`` per channel and ReLU is monotone, so the max of the result is ``a·relu(max z) + b``
    where ``a ≥ 0`` and ``a·relu(min z) + b`` where ``a < 0``. ``z`` has channels at dim 1 unless ``dim`` is 1
    (then at dim 2); the result is (n, channels, T).
    """
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    b = bn.bias - bn.running_mean * a
    hi, lo = z.amax(dim=dim).float(), z.amin(dim=dim).float()
    a_, b_ = a.view(1, -1, 1), b.view(1, -1, 1)
    return a_ * F.relu(torch.where(a_ >= 0, hi, lo)) + b_


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


class Musicnn(nn.Module, _HubMixin):
    """The musicnn tagger. ``forward(x)`` takes (n, 187, 96) log-mel patches."""

    def __init__(self, n_mels: int = N_MELS, n_tags: int = 50, midend_filters: int = 64, backend_units: int = 200,
                 labels: list[str] | None = None, source: str = ""):
        super().__init__()
        self.n_mels, self.labels, self.source = n_mels, list(labels or []), source
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.timbral = nn.ModuleList([_ConvBlock(1, 204, (7, int(0.4 * n_mels))), _ConvBlock(1, 204, (7, int(0.7 * n_mels)))])
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
        #: bfloat16 front-end convolutions (≈4× faster on CPUs with AVX-512 BF16; tags move by < 0.01,
        #: see the card). Off by default: the parity test holds the float32 path to the original.
        self.fast = False

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(n, T, 96) → (n, 753, T): front-end and mid-end features per frame."""
        n, T, n_freq = x.shape
        x = self.input_bn(x.unsqueeze(1))  # (n, 1, T, F)
        dt = torch.bfloat16 if self.fast else x.dtype
        feats = []
        # channels_last: oneDNN's fast path for a 1-channel input (≈1.7× on CPU, same numbers)
        xp = F.pad(x, (0, 0, 3, 3)).contiguous(memory_format=torch.channels_last).to(dt)
        for block in self.timbral:
            z = F.conv2d(xp, block.conv.weight.to(dt), block.conv.bias.to(dt))
            feats.append(_relu_bn_max(z, block.bn, dim=3))
        # a k×1 kernel is a 1-D conv along time with frequency folded into the batch: ≈4× faster than conv2d
        xt = x[:, 0].transpose(1, 2).reshape(n * n_freq, 1, T)
        for block in self.temporal:
            k = block.conv.kernel_size[0]
            z = F.conv1d(F.pad(xt, ((k - 1) // 2, k - 1 - (k - 1) // 2)).to(dt), block.conv.weight[:, :, :, 0].to(dt),
                         block.conv.bias.to(dt))
            feats.append(_relu_bn_max(z.reshape(n, n_freq, -1, T), block.bn, dim=1))
        front = torch.cat(feats, 1)  # (n, 561, T)
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

    @torch.inference_mode()
    def embed(self, X: np.ndarray, batch: int = 4, return_frames: bool = False) -> dict[str, np.ndarray]:
        """(n, 187, 96) patches → numpy ``tags`` (n, tags), ``penultimate`` (n, 200), ``mean_pool``/``max_pool``
        (n, 753) and, when asked, ``frames`` (n, 187, 753). Batches of 4 keep the timbral maps in cache
        (3-min song: ≈1.3 s at 4 vs ≈1.7 s at 16 on two cores)."""
        dev = next(self.parameters()).device
        keys = ["tags", "penultimate", "mean_pool", "max_pool"] + (["frames"] if return_frames else [])
        out: dict[str, list] = {k: [] for k in keys}
        for i in range(0, len(X), batch):
            check_cancel()  # a cancelled request stops here within one batch (~30 ms), not after the song
            o = self(torch.from_numpy(np.ascontiguousarray(X[i:i + batch])).to(dev), return_frames)
            for k in keys:
                out[k].append(getattr(o, k).float().cpu().numpy())
        return {k: (np.concatenate(v) if v else np.zeros((0,), np.float32)) for k, v in out.items()}


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


def embed_audio(net: Musicnn, y: np.ndarray, sr: int = SR, hop_seconds: float = PATCH_SECONDS) -> Embedding:
    """Mono 16 kHz audio → ``Embedding`` (one row per 3 s patch, ``hop_seconds`` apart)."""
    y = np.asarray(y, dtype=np.float32)
    # Shorter than a patch: repeated to fill it, and the answer is less reliable (the flag the tabs show).
    # A clip of exactly 3 s lacks only the STFT's last few ms: padded too, but not worth a warning.
    padded = len(y) < PATCH_SECONDS * sr
    if len(y) < int(np.ceil(PATCH_SECONDS * sr)) + N_FFT:
        y = pad_audio(y, sr)
    hop = max(1, int(round(hop_seconds / FRAME_SECONDS)))
    X, start_frames = patches(log_mel(y, sr), hop=min(hop, PATCH_FRAMES) if hop_seconds < PATCH_SECONDS else PATCH_FRAMES)
    e = net.embed(X)
    return Embedding(net.labels, start_frames * FRAME_SECONDS, e["tags"], e["penultimate"], e["mean_pool"], e["max_pool"], padded)


def load(name_or_path: str = "mtt") -> Musicnn:
    """A converted musicnn by bundled name (``mtt``, ``msd``) or a folder (config.json + model.safetensors).

    Loaded once per process and shared (``core.registry``), in eval mode on the registry's device.
    """
    folder = BUNDLED_DIR / BUNDLED[name_or_path] if name_or_path in BUNDLED else Path(name_or_path)
    if not (folder / "config.json").exists():
        raise ValueError(f"Unknown backbone {name_or_path!r}: use {', '.join(BUNDLED)} or a folder with config.json "
                         "(run scripts/convert_musicnn.py to make the bundled ones).")

    def _load():
        net = Musicnn.from_pretrained(str(folder))
        return net.eval().to(registry.device())

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
