"""The feature spaces the search runs in: MFCC, or the learned encoder on log-mels.

Both give one vector per frame (22,050 Hz, hop 512: 43 frames a second), as a
float32 torch tensor of shape (frames, dims), PCA-whitened over the track: every
direction of variation gets the same weight in the distances, so the loud,
ever-present background (what dominates raw features) no longer drowns a quiet
one-shot. On the first 20 development tracks whitening raised MFCC's recall with feedback
from 0.49 to 0.64 (samples) and 0.74 to 0.76 (loops) over per-dimension standardisation.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from core import features, registry
from core.training import MODELS_DIR, check_cancel, load_state, read_card

SR = 22_050
HOP_LENGTH = features.HOP_LENGTH
FRAME_RATE = SR / HOP_LENGTH
SPACES = {"mel": "Log-mel (128 bins, whitened)", "learned": "Learned (BYOL + autoencoder encoder)",
          "mfcc": "MFCC (librosa, 20 coefficients)"}
#: measured with the simulated user but not offered in the tab: on the 20 development tracks it found fewer
#: occurrences than the whitened log-mel default (docs/figures/search_dev_musicnn.json)
MEASURED_ONLY = {"musicnn": "musicnn MTT frame features (753 → 64 PCA, pretrained on real music)"}
#: Whitening floor, relative to the largest variance: directions weaker than this are not blown up.
WHITEN_EPS = 1e-3
MODEL_DIR = MODELS_DIR / "search"
DEFAULT_MODEL = "byol-ae"


def normalise_mel(S_db):
    """Log-mel in dB (max 0, floor −80) → roughly [−2, 2], the scale the augmentations' σ 0.3 refers to."""
    out = (S_db + 40.0) / 20.0
    return out.astype(np.float32) if isinstance(out, (np.ndarray, np.generic)) else out


def denormalise_mel(x):
    """The inverse of :func:`normalise_mel`: back to dB (arrays or tensors)."""
    return 20.0 * x - 40.0


def mel_input(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The encoder's input: normalised 128-bin log-mel, (128, frames)."""
    return normalise_mel(features.log_mel(y, sr))


def load(name_or_path: str = DEFAULT_MODEL):
    """The bundled encoder by name, or one ``python -m core.search.train`` saved in a folder, rebuilt from the
    ``config.json`` beside its weights (any trained size); loaded once per process and shared."""
    from core.search.models import Encoder, EncoderConfig

    path = MODEL_DIR / str(name_or_path) if (MODEL_DIR / str(name_or_path)).is_dir() else Path(name_or_path)

    def loader():
        if not (path / "model.safetensors").exists() or not (path / "config.json").exists():
            raise ValueError(f"No trained encoder at {path}: run python -m core.search.train first.")
        config = json.loads((path / "config.json").read_text())
        config.pop("kind", None)  # which class reads it: the encoder, the only kind here
        model = Encoder(EncoderConfig(**config))
        model.load_state_dict(load_state(path))
        return model.eval().to(registry.device())

    return registry.get(f"search:{path.resolve()}", loader)


def measured_recall(name: str = DEFAULT_MODEL) -> dict[str, tuple[float, float]]:
    """(samples, loops) recall within patience 5 per space on the held-out tracks, from the encoder's card."""
    m = read_card(MODEL_DIR / name).get("metrics", {})
    keys = {"mel": "eval_recall_log_mel", "learned": "eval_recall_within_patience_5", "mfcc": "eval_recall_mfcc"}
    return {space: (m[k]["sample"], m[k]["loop"]) for space, k in keys.items() if k in m}


@torch.inference_mode()
def encode(mel: np.ndarray, encoder, chunk: int = 4096) -> torch.Tensor:
    """(128, frames) normalised log-mel → (frames, channels) features, in chunks with overlap.

    Chunks overlap by the receptive field so the result equals one pass over the
    whole track, with bounded memory on long ones.
    """
    pad = sum(m.kernel_size[0] // 2 for m in encoder.modules() if isinstance(m, torch.nn.Conv1d))
    x = torch.from_numpy(mel).to(registry.device())
    out = []
    for a in range(0, x.shape[1], chunk):
        check_cancel()  # per chunk: a cancelled request stops within one
        lo, hi = max(0, a - pad), min(x.shape[1], a + chunk + pad)
        h = encoder(x[None, :, lo:hi])[0]
        out.append(h[:, a - lo: a - lo + min(chunk, x.shape[1] - a)])
    return torch.cat(out, dim=1).T.contiguous()


@torch.inference_mode()
def musicnn_frames(y: np.ndarray, sr: int = SR, pca_dims: int = 64) -> torch.Tensor:
    """The MTT backbone's front- and mid-end features per 16 ms frame, on this module's 43 Hz frame grid.

    The network is convolutional in time, so the whole track goes through at once (in 60 s chunks with
    the front end's 64-frame context on each side); frames are mapped by nearest time. The 753 channels
    are reduced to their ``pca_dims`` strongest directions before whitening, so noise directions stay out.
    """
    import librosa

    from core.backbones import musicnn

    net = musicnn.load("mtt")
    y16 = librosa.resample(np.asarray(y, np.float32), orig_sr=sr, target_sr=musicnn.SR, res_type="soxr_hq")
    mel = torch.from_numpy(musicnn.log_mel(y16))
    chunk, ctx = 3750, 64
    out = []
    for a in range(0, len(mel), chunk):
        check_cancel()
        lo, hi = max(0, a - ctx), min(len(mel), a + chunk + ctx)
        f = net.frame_features(mel[None, lo:hi].to(registry.device()))[0]  # (753, T)
        out.append(f[:, a - lo: a - lo + min(chunk, len(mel) - a)])
    F = torch.cat(out, 1).T  # (frames16, 753)
    n = 1 + len(y) // HOP_LENGTH
    idx = np.minimum(np.round(np.arange(n) * (HOP_LENGTH / sr) / musicnn.FRAME_SECONDS).astype(int), len(F) - 1)
    X = F[torch.from_numpy(idx)].double()
    Xc = X - X.mean(0)
    U, S, V = torch.linalg.svd(Xc, full_matrices=False)
    return (Xc @ V[:pca_dims].T).float()


def whiten(X: torch.Tensor, eps: float = WHITEN_EPS) -> torch.Tensor:
    """Rotate onto the principal axes of the track's frames and scale each to unit variance."""
    X = X.double()
    Xc = X - X.mean(0)
    e, V = torch.linalg.eigh(Xc.T @ Xc / len(Xc))
    return (Xc @ V / torch.sqrt(e.clamp(min=0) + eps * e.max().clamp(min=1e-12))).float()


def extract(y: np.ndarray, sr: int = SR, space: str = "mfcc", encoder=None) -> torch.Tensor:
    """Features of a whole track in ``space``: (frames, dims) float32, whitened over the track."""
    if sr != SR:
        raise ValueError(f"The search works at {SR} Hz; resample first (core.audio.load_audio(..., sr={SR})).")
    if space == "mfcc":
        X = torch.from_numpy(features.mfcc(y, sr).T.copy()).to(registry.device())
    elif space == "learned":
        mel = mel_input(y, sr)
        check_cancel()
        X = encode(mel, encoder or load())
    elif space == "mel":  # the encoder's input alone: the ablation that tells what the training adds
        X = torch.from_numpy(mel_input(y, sr).T.copy()).to(registry.device())
    elif space == "musicnn":
        X = musicnn_frames(y, sr)
    else:
        raise ValueError(f"Unknown feature space {space!r}; choose one of {', '.join(SPACES | MEASURED_ONLY)}.")
    check_cancel()  # each stage ~0.3 s on 10 minutes: a cancelled request stops between them
    return whiten(X)
