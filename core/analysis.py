"""The Audio analysis capability: one signal in, every descriptor the studio plots out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import features
from core.audio import AudioStats, audio_duration, audio_stats, load_audio

#: Analysis runs at the loop-search paper's rate; it keeps the mel plot's top at 11 kHz.
ANALYSIS_SR = 22_050


@dataclass
class Analysis:
    y: np.ndarray
    sr: int
    stats: AudioStats
    log_mel: np.ndarray  # (128, frames), dB
    chroma: np.ndarray  # (12, frames)
    zcr: np.ndarray  # (frames,)
    hop_length: int = features.HOP_LENGTH
    source_duration_s: float | None = None  # longer than stats.duration_s when the input was trimmed

    @property
    def trimmed(self) -> bool:
        return self.source_duration_s is not None and self.source_duration_s > self.stats.duration_s + 0.05


def to_csv(result: Analysis, path) -> str:
    """Per-frame features as CSV: time, zero-crossing rate, the 12 chroma bins and the log-mel frame energy."""
    from core.plots import PITCH_CLASSES

    times = features.frame_times(result.log_mel.shape[1], result.sr, result.hop_length)
    header = ["time_s", "zcr", *[f"chroma_{p}" for p in PITCH_CLASSES], "mean_log_mel_db"]
    table = np.column_stack([times, result.zcr, result.chroma.T, result.log_mel.mean(axis=0)])
    np.savetxt(str(path), table, delimiter=",", header=",".join(header), comments="", fmt="%.5g")
    return str(path)


def analyse(y: np.ndarray, sr: int, hop_length: int = features.HOP_LENGTH) -> Analysis:
    """Compute the analysis tab's descriptors of a mono float signal."""
    return Analysis(
        y=y,
        sr=sr,
        stats=audio_stats(y, sr),
        log_mel=features.log_mel(y, sr, hop_length=hop_length),
        chroma=features.chroma(y, sr, hop_length=hop_length),
        zcr=features.zcr(y, hop_length=hop_length),
        hop_length=hop_length,
    )


def analyse_file(source, sr: int = ANALYSIS_SR, max_seconds: float = 600.0) -> Analysis:
    """Load (path or Gradio tuple) and analyse; raises ``AudioError`` on bad input."""
    y, sr = load_audio(source, sr=sr, max_seconds=max_seconds, trim=True)
    result = analyse(y, sr)
    result.source_duration_s = audio_duration(source)
    return result


def log_mel_file(source, sr: int = ANALYSIS_SR, max_seconds: float = 600.0) -> tuple[np.ndarray, int]:
    """Load (path or Gradio tuple) and compute the log-mel spectrogram tabs show beside their results."""
    y, sr = load_audio(source, sr=sr, max_seconds=max_seconds, trim=True)
    return features.log_mel(y, sr), sr
