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


AST_SR = 16_000
AST_HOP_SECONDS = 0.01  # Kaldi fbank: 25 ms window, 10 ms shift


def ast_log_mel(y: np.ndarray, sr: int = AST_SR, max_length: int | None = None, extractor=None) -> np.ndarray:
    """Kaldi-style log-mel filterbank as ``ASTFeatureExtractor`` computes it (128 bins, 10 ms hop,
    AudioSet mean/std normalisation), shape (frames, 128).

    ``max_length`` pads or truncates to that many frames; ``None`` keeps every frame of ``y``.
    ``y`` must already be at 16 kHz (``core.audio.load_audio(..., sr=16000)``).
    """
    if sr != AST_SR:
        raise ValueError(f"ast_log_mel needs 16 kHz audio, got {sr} Hz.")
    if max_length is None:
        max_length = max(1, 1 + (len(y) - 400) // 160)
    import warnings

    with warnings.catch_warnings():  # "a mel filter has all zero values": expected at 16 kHz with 128 bins
        warnings.simplefilter("ignore")
        if extractor is None:
            extractor = ast_feature_extractor(max_length)
        extractor.max_length = max_length
        return extractor(y, sampling_rate=AST_SR, return_tensors="np")["input_values"][0].astype(np.float32)


def ast_feature_extractor(max_length: int = 1024):
    """transformers' ``ASTFeatureExtractor`` with its defaults (AudioSet normalisation) and ``max_length``."""
    import warnings

    from transformers import ASTFeatureExtractor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ASTFeatureExtractor(max_length=max_length)


# The genre paper's input: 200 ms windows with a 100 ms hop, power max-pooled into 12 bands
# (4 low, 4 mid, 4 high), so a 3 s excerpt is a 12×29 matrix.
BAND_WINDOW_S = 0.2
BAND_HOP_S = 0.1
BAND_EDGES_HZ = (0, 60, 120, 180, 250, 500, 1000, 2000, 4000, 5500, 7000, 9000, 11025)


def band_spectrogram(
    y: np.ndarray,
    sr: int,
    window_s: float = BAND_WINDOW_S,
    hop_s: float = BAND_HOP_S,
    edges_hz=BAND_EDGES_HZ,
    log: bool = True,
) -> np.ndarray:
    """Max-pooled band spectrogram, shape (len(edges_hz) - 1, frames), uncentred frames.

    Each frame's power spectrum (Hann window) is reduced to the maximum inside each
    band; ``log`` returns dB. Normalising (min–max per excerpt) is left to the caller.
    """
    win, hop = int(round(window_s * sr)), int(round(hop_s * sr))
    if len(y) < win:
        y = np.pad(y, (0, win - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y.astype(np.float32), win)[::hop]
    import scipy.fft

    spec = scipy.fft.rfft(frames * np.hanning(win).astype(np.float32), axis=1)  # float32 FFT: ~4x numpy's
    power = spec.real**2 + spec.imag**2
    freqs = np.fft.rfftfreq(win, 1.0 / sr)
    bands = np.zeros((len(edges_hz) - 1, len(frames)), dtype=np.float32)
    for i, (lo, hi) in enumerate(zip(edges_hz[:-1], edges_hz[1:])):
        sel = (freqs >= lo) & (freqs < hi) if i < len(edges_hz) - 2 else (freqs >= lo)
        if sel.any():
            bands[i] = power[:, sel].max(axis=1)
    return (10.0 * np.log10(bands + 1e-10)).astype(np.float32) if log else bands
