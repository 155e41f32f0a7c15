"""Audio features: thin wrappers over librosa with the papers' parameters as defaults.

Defaults follow the MIDI-generation paper's analysis (n_fft 1024, hop 512,
128 mel bands) and the loop-search paper (22,050 Hz, n_fft 1024, hop 512), so
one set of numbers serves every tab.
"""
from __future__ import annotations

import functools

import numpy as np

N_FFT = 1024
HOP_LENGTH = 512
N_MELS = 128
N_MFCC = 20


def power_spectrogram(y: np.ndarray, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """|STFT|², shape (1 + n_fft // 2, frames): computed once, it feeds ``log_mel`` and ``chroma`` (``S=``)."""
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2


def log_mel(
    y: np.ndarray | None,
    sr: int,
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
    n_mels: int = N_MELS,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    S: np.ndarray | None = None,
) -> np.ndarray:
    """Log-mel spectrogram in dB relative to the signal's maximum, shape (n_mels, frames).
    ``S``: a power spectrogram already computed (``power_spectrogram``) instead of ``y``."""
    import librosa

    M = librosa.feature.melspectrogram(
        y=y, sr=sr, S=S, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmax=fmax
    )
    return librosa.power_to_db(M, ref=np.max, top_db=top_db).astype(np.float32)


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


def chroma(y: np.ndarray | None, sr: int, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH,
           S: np.ndarray | None = None) -> np.ndarray:
    """STFT chromagram, shape (12, frames), each frame normalised to max 1 (``S``: as for ``log_mel``)."""
    import librosa

    if S is None:
        S = power_spectrogram(y, n_fft=n_fft, hop_length=hop_length)
    return librosa.feature.chroma_stft(S=S, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                       tuning=tuning(S, sr)).astype(np.float32)


def tuning(S: np.ndarray, sr: int, bins_per_octave: int = 12, frames: int = 1024) -> float:
    """``librosa.estimate_tuning(S=S, sr=sr, bins_per_octave=…)`` (what ``chroma_stft`` runs), ``frames`` of the
    spectrogram (freq, frames) at a time: ``piptrack`` reads every frame on its own, so the blocks give the same
    peaks, and its full-size temporaries (110 MB for 3 minutes) are never made at once."""
    import librosa

    pitches, mags = [], []
    for i in range(0, S.shape[-1], frames):
        pitch, mag = librosa.piptrack(S=S[..., i:i + frames], sr=sr)
        found = pitch > 0
        pitches.append(pitch[found])
        mags.append(mag[found])
    pitch, mag = np.concatenate(pitches), np.concatenate(mags)
    threshold = np.median(mag) if len(mag) else 0.0
    return float(librosa.pitch_tuning(pitch[mag >= threshold], bins_per_octave=bins_per_octave))


def zcr(y: np.ndarray, frame_length: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Zero-crossing rate per frame (crossings per sample), shape (frames,)."""
    import librosa

    return librosa.feature.zero_crossing_rate(y, frame_length=frame_length, hop_length=hop_length)[0].astype(
        np.float32
    )


def hpss(y: np.ndarray, margin: float = 1.0, n_fft: int = N_FFT,
         hop_length: int = HOP_LENGTH) -> tuple[np.ndarray, np.ndarray]:
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


def ast_fbank(y: np.ndarray, sr: int = AST_SR) -> np.ndarray:
    """The AST's input, every frame of ``y``: Kaldi-style 128-bin log-mel (400-sample frames every 160, DC
    removed, pre-emphasis 0.97, Hann window, 512-point power spectrum, log), AudioSet mean/std normalised.
    Shape (1 + (len(y) - 400) // 160, 128); ``y`` at 16 kHz.

    The steps and constants of transformers' ``ASTFeatureExtractor`` (numpy path), vectorised over frames:
    its own loop is ~15× slower on a song. ``tests/test_features.py`` holds the two equal.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    if sr != AST_SR:
        raise ValueError(f"AST features need {AST_SR} Hz audio, got {sr} Hz.")
    y = np.asarray(y, np.float64)
    if len(y) < 400:
        y = np.pad(y, (0, 400 - len(y)))
    ex = _ast_constants()
    frames = sliding_window_view(y, 400)[::160]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    power = np.abs(np.fft.rfft(frames * ex.window, n=512).astype(np.complex64), dtype=np.float64) ** 2
    return _ast_normalise(np.log(np.maximum(1.192092955078125e-07, power @ ex.mel_filters)))


def ast_log_mel(y: np.ndarray, sr: int = AST_SR, max_length: int | None = None) -> np.ndarray:
    """:func:`ast_fbank` padded (with the extractor's zero log-mel) or cut to ``max_length`` frames, as
    ``ASTFeatureExtractor(max_length=...)`` returns it; ``None`` keeps every frame. Shape (frames, 128)."""
    if sr != AST_SR:
        raise ValueError(f"ast_log_mel needs 16 kHz audio, got {sr} Hz.")
    F = ast_fbank(y, sr)
    if max_length is None or len(F) == max_length:
        return F
    if len(F) > max_length:
        return F[:max_length]
    pad = np.broadcast_to(_ast_normalise(np.zeros((1, F.shape[1]))), (max_length - len(F), F.shape[1]))
    return np.concatenate([F, pad]).astype(np.float32)


def _ast_normalise(log_mel: np.ndarray) -> np.ndarray:
    ex = _ast_constants()
    return ((log_mel - ex.mean) / (ex.std * 2)).astype(np.float32)


@functools.cache
def _ast_constants():
    """The extractor, for its window, mel filters and AudioSet mean/std only: read, never changed, so shared."""
    return ast_feature_extractor()


def ast_feature_extractor(max_length: int = 1024):
    """transformers' ``ASTFeatureExtractor`` with its defaults (AudioSet normalisation) and ``max_length``."""
    import warnings

    from transformers import ASTFeatureExtractor

    with warnings.catch_warnings():  # "a mel filter has all zero values": expected at 16 kHz with 128 bins
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
