"""Audio features: thin wrappers over librosa with the papers' parameters as defaults.

Defaults follow the MIDI-generation paper's analysis (n_fft 1024, hop 512,
128 mel bands) and the loop-search paper (22,050 Hz, n_fft 1024, hop 512), so
one set of numbers serves every tab.
"""
from __future__ import annotations

import numpy as np

N_FFT = 1024
HOP_LENGTH = 512
N_MELS = 128
N_MFCC = 20


def log_mel(
    y: np.ndarray,
    sr: int,
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
    n_mels: int = N_MELS,
    fmax: float | None = None,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Log-mel spectrogram in dB relative to the signal's maximum, shape (n_mels, frames)."""
    import librosa

    S = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmax=fmax
    )
    return librosa.power_to_db(S, ref=np.max, top_db=top_db).astype(np.float32)


def mfcc(
    y: np.ndarray,
    sr: int,
    n_mfcc: int = N_MFCC,
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
    n_mels: int = N_MELS,
) -> np.ndarray:
    """MFCCs, shape (n_mfcc, frames)."""
    import librosa

    return librosa.feature.mfcc(
        y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    ).astype(np.float32)


def chroma(y: np.ndarray, sr: int, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """STFT chromagram, shape (12, frames), each frame normalised to max 1."""
    import librosa

    return librosa.feature.chroma_stft(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length).astype(np.float32)


def zcr(y: np.ndarray, frame_length: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Zero-crossing rate per frame (crossings per sample), shape (frames,)."""
    import librosa

    return librosa.feature.zero_crossing_rate(y, frame_length=frame_length, hop_length=hop_length)[0].astype(
        np.float32
    )


def hpss(y: np.ndarray, margin: float = 1.0, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Split a signal into its harmonic and percussive parts (same length as ``y``)."""
    import librosa

    D = librosa.stft(y, n_fft=n_fft, hop_length=hop_length)
    H, P = librosa.decompose.hpss(D, margin=margin)
    harmonic = librosa.istft(H, hop_length=hop_length, n_fft=n_fft, length=len(y))
    percussive = librosa.istft(P, hop_length=hop_length, n_fft=n_fft, length=len(y))
    return harmonic.astype(np.float32), percussive.astype(np.float32)


def frame_times(n_frames: int, sr: int, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Centre time in seconds of each feature frame."""
    return (np.arange(n_frames) * hop_length / sr).astype(np.float32)
