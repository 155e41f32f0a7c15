"""Whole recordings → model inputs, one row per 3 s excerpt (the paper's preprocessing).

``bands``: the paper's 12×29 max-pooled spectrogram at 22,050 Hz, min–max normalised per
excerpt. ``ast_mel``: ``ASTFeatureExtractor``'s 128-bin Kaldi log-mel at 16 kHz,
10 ms hop, 298 frames per excerpt. Both compute the features of the whole recording once
and slice them, so a 3-minute song costs one pass.
"""
from __future__ import annotations

import numpy as np

from core.features import BAND_HOP_S, ast_fbank, band_spectrogram

EXCERPT_S = 3.0
BANDS_SR = 22_050
BANDS_FRAMES = 29  # 1 + (3 s - 200 ms) / 100 ms
AST_SR = 16_000
AST_FRAMES = 298  # 1 + (48,000 - 400) // 160: Kaldi fbank frames in 3 s
INPUTS = {"bands": BANDS_SR, "ast_mel": AST_SR}


def excerpt_starts(n_samples: int, sr: int, hop_s: float = EXCERPT_S, excerpt_s: float = EXCERPT_S) -> np.ndarray:
    """Start times (s) of the excerpts covering a recording; at least one (short input is padded)."""
    duration = n_samples / sr
    n = max(1, int(np.floor((duration - excerpt_s) / hop_s + 1e-6)) + 1) if duration >= excerpt_s else 1
    return (np.arange(n) * hop_s).astype(np.float32)


def minmax(x: np.ndarray, axis=(-2, -1)) -> np.ndarray:
    """The paper's (S - min S) / (max S - min S), per excerpt; a flat excerpt becomes zeros."""
    lo, hi = x.min(axis=axis, keepdims=True), x.max(axis=axis, keepdims=True)
    return ((x - lo) / np.maximum(hi - lo, 1e-6)).astype(np.float32)


def pad_to(y: np.ndarray, n: int) -> np.ndarray:
    return np.pad(y, (0, n - len(y))) if len(y) < n else y


def band_excerpts(y: np.ndarray, sr: int = BANDS_SR, hop_s: float = EXCERPT_S) -> tuple[np.ndarray, np.ndarray]:
    """(excerpts (n, 12, 29), start times (n,)) for audio at ``BANDS_SR``."""
    if sr != BANDS_SR:
        raise ValueError(f"band features need {BANDS_SR} Hz audio, got {sr} Hz.")
    y = pad_to(y, int(EXCERPT_S * sr))
    B = band_spectrogram(y, sr)
    starts = excerpt_starts(len(y), sr, hop_s)
    step = int(round(1 / BAND_HOP_S))  # frames per second
    idx = (np.round(starts * step).astype(int)[:, None] + np.arange(BANDS_FRAMES)[None, :])
    idx = np.minimum(idx, B.shape[1] - 1)
    X = B[:, idx].transpose(1, 0, 2)  # (n, 12, 29)
    return minmax(X), starts


def ast_excerpts(y: np.ndarray, sr: int = AST_SR, hop_s: float = EXCERPT_S) -> tuple[np.ndarray, np.ndarray]:
    """(excerpts (n, 298, 128), start times (n,)) for audio at 16 kHz, AST-normalised."""
    if sr != AST_SR:
        raise ValueError(f"AST features need {AST_SR} Hz audio, got {sr} Hz.")
    y = pad_to(y, int(EXCERPT_S * sr))
    starts = excerpt_starts(len(y), sr, hop_s)
    F = ast_fbank(y, sr)  # the whole song in one pass, then 298-frame slices
    idx = np.round(starts * 100).astype(int)[:, None] + np.arange(AST_FRAMES)[None, :]
    idx = np.minimum(idx, F.shape[0] - 1)
    return F[idx].astype(np.float32), starts


def excerpts(y: np.ndarray, sr: int, kind: str, hop_s: float = EXCERPT_S) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs of ``kind`` ("bands" or "ast_mel") for audio already at ``INPUTS[kind]`` Hz."""
    if kind == "bands":
        return band_excerpts(y, sr, hop_s)
    if kind == "ast_mel":
        return ast_excerpts(y, sr, hop_s)
    raise ValueError(f"Unknown input kind {kind!r}; expected one of {', '.join(INPUTS)}.")
