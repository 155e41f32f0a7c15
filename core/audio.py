"""Audio in and out: one loader for every tab, one error type for every bad input.

``load_audio`` accepts a file path or Gradio's ``(sample_rate, ndarray)`` tuple and
returns float32 mono (or channels-first stereo) at the requested rate; more than two channels are refused.
Anything wrong with the input raises :class:`AudioError` with a message meant for
the user; the UI shows it verbatim.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

#: Sample rates outside this range are almost certainly a mislabelled file.
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 384_000
#: Longest input any tab accepts by default (10 minutes).
DEFAULT_MAX_SECONDS = 600.0
#: Refuse to even open files larger than this: decoding them could exhaust memory.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: Peak below which a signal counts as silent (-80 dBFS).
SILENCE_PEAK = 1e-4
#: Most channels any tab reads. One rule for every capability: a surround file (5.1 has 6 channels) is refused
#: with one message rather than averaged (its LFE and centre would swamp a mono mix) by some and refused by others.
MAX_CHANNELS = 2

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a", ".opus")


class AudioError(ValueError):
    """Bad audio input. ``str(err)`` is a complete sentence for the user."""


def to_float32(y: np.ndarray) -> np.ndarray:
    """Convert PCM of any integer width (or any float) to float32 in [-1, 1].

    Signed integers are scaled by 2**(bits-1); unsigned ones (8-bit WAV) are
    centred first.
    """
    y = np.asarray(y)
    if y.dtype.kind == "i":
        return (y.astype(np.float64) / float(2 ** (8 * y.dtype.itemsize - 1))).astype(np.float32)
    if y.dtype.kind == "u":
        half = float(2 ** (8 * y.dtype.itemsize - 1))
        return ((y.astype(np.float64) - half) / half).astype(np.float32)
    if y.dtype.kind == "f":
        return y.astype(np.float32, copy=False)
    if y.dtype.kind == "b":
        return y.astype(np.float32)
    raise AudioError(f"Audio samples must be numbers, got {y.dtype}.")


def _channels_first(y: np.ndarray) -> np.ndarray:
    """Return (channels, samples). Gradio and soundfile give (samples, channels)."""
    if y.ndim == 1:
        return y[np.newaxis, :]
    if y.ndim != 2:
        raise AudioError(f"Audio must be 1-D or 2-D, got an array of shape {y.shape}.")
    # A channel count is small; the longer axis is time.
    return y.T if y.shape[0] >= y.shape[1] else y


def _check_channels(channels: int, what: str = "The audio") -> None:
    if channels > MAX_CHANNELS:
        raise AudioError(f"{what} has {channels} channels; the studio reads mono or stereo: "
                         "export a stereo (or mono) mix and use that.")


def check_min_seconds(n_samples: int, sr: int, min_seconds: float, purpose: str) -> None:
    """Refuse audio shorter than ``min_seconds``, with the same sentence for every capability
    ("... at least 0.1 s is needed to analyse it.")."""
    if n_samples < min_seconds * sr:
        length = (f"{n_samples} sample{'' if n_samples == 1 else 's'}" if n_samples < 0.01 * sr
                  else f"{n_samples / sr:.2f} s")
        raise AudioError(f"The audio is only {length} long: at least {min_seconds:g} s is needed to {purpose}.")


def _is_rate_and_samples(source) -> bool:
    """Gradio's numpy audio value: (sample_rate, ndarray)."""
    return isinstance(source, (tuple, list)) and len(source) == 2 and isinstance(source[1], (np.ndarray, list))


def _check_rate(sr) -> int:
    try:
        sr_f = float(sr)
    except (TypeError, ValueError):
        raise AudioError(f"The sample rate {sr!r} is not a number.") from None
    if not math.isfinite(sr_f) or sr_f != int(sr_f) or not MIN_SAMPLE_RATE <= sr_f <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"The sample rate {sr} Hz is not usable: it must be a whole number "
            f"between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz."
        )
    return int(sr_f)


def _read_file(path: Path, max_seconds: float | None, trim: bool, max_bytes: int) -> tuple[np.ndarray, int]:
    if not path.exists():
        raise AudioError(f"The file {path.name!r} does not exist.")
    if path.is_dir():
        raise AudioError(f"{path.name!r} is a folder, not an audio file.")
    size = path.stat().st_size
    if size == 0:
        raise AudioError(f"The file {path.name!r} is empty (0 bytes).")
    if size > max_bytes:
        raise AudioError(
            f"The file {path.name!r} is {size / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB."
        )
    try:
        info = sf.info(str(path))
    except Exception:
        return _read_with_audioread(path, max_seconds, trim)
    sr = _check_rate(info.samplerate)
    _check_channels(info.channels, f"The file {path.name!r}")  # before decoding a long surround file
    frames = info.frames
    if max_seconds is not None and frames > max_seconds * sr:
        if not trim:
            raise AudioError(
                f"The audio is {frames / sr:.0f} s long; the limit is {max_seconds:.0f} s. "
                "Trim it or upload a shorter excerpt."
            )
        frames = int(max_seconds * sr)
    try:
        return _read_channels_first(path, frames), sr
    except Exception as err:
        raise AudioError(f"The file {path.name!r} could not be decoded ({err}).") from None


def _read_channels_first(path: Path, frames: int, block: int = 1 << 16) -> np.ndarray:
    """Up to ``frames`` of a libsndfile file as float32 (channels, samples), a block at a time: reading it whole
    and transposing would hold the interleaved and the planar copy at once (126 MB for 3 minutes of stereo)."""
    with sf.SoundFile(str(path)) as f:
        out = np.empty((f.channels, frames), dtype=np.float32)
        done = 0
        while done < frames:
            part = f.read(min(block, frames - done), dtype="float32", always_2d=True)
            if len(part) == 0:  # fewer frames than the header said (a truncated file)
                break
            out[:, done:done + len(part)] = part.T
            done += len(part)
    return out[:, :done]


def _read_with_audioread(path: Path, max_seconds: float | None, trim: bool) -> tuple[np.ndarray, int]:
    """Formats libsndfile does not know (m4a, some mp3s) go through librosa/audioread."""
    import librosa

    duration = max_seconds if trim else None
    try:
        with warnings.catch_warnings():  # librosa warns before trying audioread; our error says it all
            warnings.simplefilter("ignore")
            y, sr = librosa.load(str(path), sr=None, mono=False, duration=duration)
    except Exception:
        raise AudioError(
            f"The file {path.name!r} is not audio this app can read "
            f"(supported: {', '.join(e.lstrip('.') for e in AUDIO_EXTENSIONS[:4])})."
        ) from None
    sr = _check_rate(sr)
    y = np.atleast_2d(y)
    if max_seconds is not None and not trim and y.shape[-1] > max_seconds * sr:
        raise AudioError(f"The audio is {y.shape[-1] / sr:.0f} s long; the limit is {max_seconds:.0f} s.")
    return y, sr


def load_audio(
    source,
    sr: int | None = 22_050,
    mono: bool = True,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    trim: bool = False,
    allow_silence: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[np.ndarray, int]:
    """Load audio from a path or a ``(sample_rate, samples)`` tuple.

    Parameters
    ----------
    source : str, Path or (int, ndarray)
        A file (wav, flac, ogg, mp3, ...) or what ``gr.Audio(type="numpy")`` hands over:
        the rate and an int16/int32/float array, stereo as (n, 2).
    sr : int or None
        Target sample rate; ``None`` keeps the native rate.
    mono : bool
        Average the channels. Otherwise the result is (channels, samples). Input with more than
        ``MAX_CHANNELS`` channels raises, whatever ``mono`` is.
    max_seconds : float or None
        Duration cap. Longer input raises, or is cut to the cap when ``trim``.
    allow_silence : bool
        When False, an all-silent signal raises (models cannot classify silence).

    Returns
    -------
    y : np.ndarray, float32
    sr : int
    """
    if source is None:
        raise AudioError("No audio was given: upload or record a file first.")
    if _is_rate_and_samples(source):
        native_sr = _check_rate(source[0])
        y = to_float32(np.asarray(source[1]))
        y = _channels_first(y)
        if max_seconds is not None and y.shape[-1] > max_seconds * native_sr:
            if not trim:
                raise AudioError(
                    f"The audio is {y.shape[-1] / native_sr:.0f} s long; the limit is {max_seconds:.0f} s."
                )
            y = y[:, : int(max_seconds * native_sr)]
    elif isinstance(source, (str, os.PathLike)):
        # A file's layout is known, (channels, samples): guessing by the longer axis would read a 1-frame
        # stereo file as 2 samples of mono
        data, native_sr = _read_file(Path(source), max_seconds, trim, max_bytes)
        y = to_float32(data)
    else:
        raise AudioError(f"Expected a file path or (sample_rate, samples), got {type(source).__name__}.")
    _check_channels(y.shape[0])

    if y.size == 0 or y.shape[-1] == 0:
        raise AudioError("The audio is empty: it has no samples.")
    low, high = float(y.min()), float(y.max())  # NaN and ±inf reach these; no |y| or mask copy of the file
    if not (math.isfinite(low) and math.isfinite(high)):
        raise AudioError("The audio contains invalid samples (NaN or infinity); the file is probably corrupt.")
    if not allow_silence and max(high, -low) < SILENCE_PEAK:
        raise AudioError("The audio is silent: there is nothing to analyse.")

    if mono:
        y = y.mean(axis=0)
    if sr is not None and sr != native_sr:
        return resample(y, native_sr, sr), int(sr)
    return np.ascontiguousarray(y, dtype=np.float32), int(native_sr)


def resample(y: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """``y`` (..., samples) from ``orig_sr`` to ``sr`` with soxr's high-quality filter, as float32."""
    if int(orig_sr) == int(sr):
        return np.ascontiguousarray(y, dtype=np.float32)
    import librosa

    y = librosa.resample(y, orig_sr=int(orig_sr), target_sr=_check_rate(sr), res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def spread_excerpts(y: np.ndarray, sr: int, n: int, seconds: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``n`` excerpts of ``seconds``, evenly spread from the start to the end of ``y`` (samples,), joined.

    Returns (joined samples, start time of each excerpt in seconds), or None when ``y`` holds fewer than
    ``2 n`` excerpts' worth (reading it all is then cheap enough). A first look at a long song in 1/10 of the time.
    """
    length = int(round(seconds * sr))
    if n < 1 or len(y) < 2 * n * length:
        return None
    starts = np.linspace(0, len(y) - length, n).round().astype(int)
    return np.concatenate([y[s: s + length] for s in starts]), starts / sr


def read_excerpts(source, sr: int, n: int, seconds: float, max_seconds: float | None = DEFAULT_MAX_SECONDS
                  ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """:func:`spread_excerpts` of ``source`` (mono, at ``sr``), decoding only those parts of a file.

    Returns (joined samples, start of each excerpt in seconds, duration read from) or None when the input
    (up to ``max_seconds``) holds fewer than ``2 n`` excerpts. A seekable file (wav, flac, ogg, mp3 via
    libsndfile) is read at the excerpts only: a first look at a 3-minute FLAC decodes 18 s of it, not 180.
    """
    info = None
    if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        try:
            info = sf.info(str(source))
        except Exception:  # not a libsndfile format: decode it all below
            info = None
    if info is None or info.frames <= 0:
        y, sr = load_audio(source, sr=sr, max_seconds=max_seconds, trim=True)
        spread = spread_excerpts(y, sr, n, seconds)
        return None if spread is None else (*spread, len(y) / sr)
    native = _check_rate(info.samplerate)
    _check_channels(info.channels, f"The file {Path(source).name!r}")
    total = info.frames if max_seconds is None else min(info.frames, int(max_seconds * native))
    length = int(round(seconds * native))
    if n < 1 or total < 2 * n * length:
        return None
    starts = np.linspace(0, total - length, n).round().astype(int)
    try:
        with sf.SoundFile(str(source)) as f:
            pieces = []
            for start in starts:
                f.seek(int(start))
                pieces.append(f.read(length, dtype="float32", always_2d=True))
    except Exception as err:
        raise AudioError(f"The file {Path(source).name!r} could not be decoded ({err}).") from None
    y = np.concatenate(pieces).mean(axis=1)
    if not np.all(np.isfinite(y)):
        raise AudioError("The audio contains invalid samples (NaN or infinity); the file is probably corrupt.")
    return resample(y, native, sr), starts / native, total / native


def cut_notice(source, max_seconds: float, label: str = "The audio") -> list[str]:
    """The notice for input cut to its first ``max_seconds`` (always announced), or none."""
    total = audio_duration(source)
    if total > max_seconds + 0.5:
        return [f"{label} is {total:.0f} s long; only the first {max_seconds:.0f} s were processed."]
    return []


def audio_duration(source) -> float:
    """Duration in seconds of a path or (sample_rate, samples) tuple, without decoding a file."""
    if _is_rate_and_samples(source):
        return _channels_first(np.asarray(source[1])).shape[-1] / _check_rate(source[0])
    try:
        return float(sf.info(str(source)).duration)
    except Exception:
        import librosa

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return float(librosa.get_duration(path=str(source)))
        except Exception:
            raise AudioError(f"{Path(str(source)).name!r} is not audio this app can read.") from None


def write_wav(path, y: np.ndarray, sr: int, subtype: str = "PCM_16") -> str:
    """Write float audio to a WAV file without normalising it (clips at ±1).

    Returning WAV files rather than arrays keeps levels intact in Gradio, which
    peak-normalises float arrays.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.T  # soundfile wants (samples, channels)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(y, -1.0, 1.0), int(sr), subtype=subtype)
    return str(path)


@dataclass(frozen=True)
class AudioStats:
    """Level and size figures shown next to every analysed signal."""

    duration_s: float
    sample_rate: int
    peak: float
    peak_dbfs: float
    rms_dbfs: float
    loudness_lufs: float | None  # None when the signal is too short or silent to gate

    def as_rows(self) -> list[tuple[str, str]]:
        def db(x):
            return "-inf" if not math.isfinite(x) else f"{x:.1f}"

        return [
            ("Duration", f"{self.duration_s:.2f} s"),
            ("Sample rate", f"{self.sample_rate} Hz"),
            ("Peak", f"{self.peak:.3f} ({db(self.peak_dbfs)} dBFS)"),
            ("RMS level", f"{db(self.rms_dbfs)} dBFS"),
            ("Loudness", "n/a (too short or silent)" if self.loudness_lufs is None
             else f"{self.loudness_lufs:.1f} LUFS"),
        ]


def _dbfs(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def audio_stats(y: np.ndarray, sr: int, loudness: bool = True) -> AudioStats:
    """Duration, peak, RMS and ITU-R BS.1770 integrated loudness (pyloudnorm; ``loudness=False``: None, for a
    caller that measures the file's own, ``core.levels``)."""
    y = np.asarray(y, dtype=np.float32)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    lufs = None
    if loudness and y.shape[-1] >= int(0.4 * sr) and peak >= SILENCE_PEAK:  # BS.1770 gates 400 ms blocks
        import pyloudnorm

        value = pyloudnorm.Meter(sr).integrated_loudness(y.T if y.ndim == 2 else y)
        lufs = float(value) if math.isfinite(value) else None
    return AudioStats(
        duration_s=y.shape[-1] / sr,
        sample_rate=int(sr),
        peak=peak,
        peak_dbfs=_dbfs(peak),
        rms_dbfs=_dbfs(rms),
        loudness_lufs=lufs,
    )
