"""core.audio: round-trips across formats and rates, and one clear error for every bad input."""
import math

import numpy as np
import pytest
import soundfile as sf

from core.audio import (
    AudioError,
    audio_duration,
    audio_stats,
    load_audio,
    read_excerpts,
    spread_excerpts,
    to_float32,
    write_wav,
)
from tests.conftest import EXAMPLES, tone


@pytest.mark.parametrize("fmt,subtype",
                         [("WAV", "PCM_16"), ("WAV", "PCM_24"), ("WAV", "FLOAT"), ("FLAC", "PCM_16"), ("OGG", "VORBIS"),
                          ("MP3", "MPEG_LAYER_III")])
def test_round_trip_formats(tmp_path, fmt, subtype):
    y = tone(440, 1.0, 22_050)
    path = tmp_path / f"a.{fmt.lower()}"
    sf.write(path, y, 22_050, format=fmt, subtype=subtype)
    out, sr = load_audio(path, sr=22_050)
    assert sr == 22_050 and out.dtype == np.float32
    assert abs(len(out) - len(y)) < 0.06 * len(y)  # lossy codecs pad a little
    spectrum = np.abs(np.fft.rfft(out[:8192]))
    assert abs(np.argmax(spectrum) * 22_050 / 8192 - 440) < 5  # still a 440 Hz tone


@pytest.mark.parametrize("native,target", [(8_000, 22_050), (44_100, 22_050), (48_000, 16_000), (96_000, 44_100)])
def test_resampling_keeps_duration_and_pitch(tmp_path, native, target):
    y = tone(300, 0.5, native)
    path = tmp_path / "a.wav"
    sf.write(path, y, native)
    out, sr = load_audio(path, sr=target)
    assert sr == target
    assert abs(len(out) - 0.5 * target) <= 2
    assert np.max(np.abs(out)) == pytest.approx(0.5, abs=0.02)


def test_native_rate_and_stereo(tmp_path):
    left, right = tone(440, 0.5, 32_000, 0.2), tone(440, 0.5, 32_000, 0.6)
    path = tmp_path / "s.wav"
    sf.write(path, np.stack([left, right], axis=1), 32_000)
    mono, sr = load_audio(path, sr=None)
    assert sr == 32_000 and mono.ndim == 1
    assert np.max(np.abs(mono)) == pytest.approx(0.4, abs=0.01)
    both, _ = load_audio(path, sr=None, mono=False)
    assert both.shape == (2, 16_000)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.float64])
def test_integer_pcm_of_any_width(dtype):
    y = tone(440, 0.1, 8_000, 0.5)
    if np.dtype(dtype).kind == "i":
        pcm = (y * 2 ** (8 * np.dtype(dtype).itemsize - 1)).astype(dtype)
    elif np.dtype(dtype).kind == "u":
        pcm = (y * 128 + 128).astype(dtype)
    else:
        pcm = y.astype(dtype)
    out = to_float32(pcm)
    assert out.dtype == np.float32
    assert np.max(np.abs(out - y)) < 0.02


def test_gradio_tuple_int16_stereo():
    y = (tone(440, 1.0, 48_000, 0.5) * 32767).astype(np.int16)
    stereo = np.stack([y, y], axis=1)  # what gr.Audio(type="numpy") hands over
    out, sr = load_audio((48_000, stereo), sr=22_050)
    assert sr == 22_050 and out.shape == (22_050,)
    assert np.max(np.abs(out)) == pytest.approx(0.5, abs=0.02)


def test_bundled_examples_load():
    for path in EXAMPLES.iterdir():
        if path.suffix in (".flac", ".mp3", ".ogg"):
            y, sr = load_audio(path, allow_silence=False)
            assert len(y) / sr > 5


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p / "missing.wav", "does not exist"),
        (lambda p: _write(p / "empty.wav", b""), "empty"),
        (lambda p: _write(p / "text.wav", b"hello, not audio"), "not audio"),
        (lambda p: _write(p / "junk.mp3", bytes(range(256)) * 64), "not audio"),
        (lambda p: p, "folder"),
    ],
)
def test_bad_files(tmp_path, make, message):
    with pytest.raises(AudioError, match=message):
        load_audio(make(tmp_path))


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 22_050)
    with pytest.raises(AudioError, match="empty"):
        load_audio(path)
    with pytest.raises(AudioError, match="empty"):
        load_audio((22_050, np.zeros(0, dtype=np.int16)))


def test_nan_and_inf_samples():
    y = tone()
    y[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        load_audio((22_050, y))
    y[100] = np.inf
    with pytest.raises(AudioError, match="NaN or infinity"):
        load_audio((22_050, y))


@pytest.mark.parametrize("sr", [0, -44_100, 10, 10_000_000, float("nan"), 44_100.5, "fast"])
def test_absurd_sample_rates(sr):
    with pytest.raises(AudioError, match="sample rate"):
        load_audio((sr, tone()))


def test_over_long_audio_raises_or_trims(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(440, 5.0, 8_000), 8_000)
    with pytest.raises(AudioError, match="limit is 2 s"):
        load_audio(path, max_seconds=2)
    y, sr = load_audio(path, sr=None, max_seconds=2, trim=True)
    assert len(y) == 2 * 8_000
    assert audio_duration(path) == pytest.approx(5.0)


def test_huge_file_refused_before_decoding(tmp_path):
    path = tmp_path / "big.wav"
    sf.write(path, tone(440, 1.0, 8_000), 8_000)
    with pytest.raises(AudioError, match="MB"):
        load_audio(path, max_bytes=1_000)


def test_silence():
    silent = np.zeros(22_050, dtype=np.float32)
    y, _ = load_audio((22_050, silent))  # allowed by default (the analysis tab shows it)
    assert not y.any()
    with pytest.raises(AudioError, match="silent"):
        load_audio((22_050, silent), allow_silence=False)


def test_not_a_source():
    with pytest.raises(AudioError, match="No audio"):
        load_audio(None)
    with pytest.raises(AudioError, match="Expected a file path"):
        load_audio(42)


def test_write_wav_keeps_level(tmp_path):
    y = tone(440, 0.5, 22_050, 0.25)
    path = write_wav(tmp_path / "out" / "q.wav", y, 22_050)
    back, sr = load_audio(path, sr=None)
    assert np.max(np.abs(back)) == pytest.approx(0.25, abs=1e-3)  # not peak-normalised


def test_stats():
    sr = 44_100
    y = tone(1000, 3.0, sr, 0.5)
    stats = audio_stats(y, sr)
    assert stats.duration_s == pytest.approx(3.0)
    assert stats.peak_dbfs == pytest.approx(20 * math.log10(0.5), abs=0.01)
    assert stats.rms_dbfs == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.05)
    # BS.1770: a 1 kHz sine at -3 dBFS peak reads about -3 dB LUFS relative to its RMS
    # (K-weighting is ~+0.7 dB at 1 kHz)
    assert stats.loudness_lufs == pytest.approx(stats.rms_dbfs + 0.7 - 0.69, abs=1.0)
    silent = audio_stats(np.zeros(sr, dtype=np.float32), sr)
    assert silent.loudness_lufs is None and silent.rms_dbfs == -math.inf
    assert dict(silent.as_rows())["RMS level"] == "-inf dBFS"


def test_spread_excerpts_reach_from_the_start_to_the_end_and_skip_short_inputs():
    sr = 100
    y = np.arange(60 * sr, dtype=np.float32)  # a ramp: each sample names its own position
    joined, starts = spread_excerpts(y, sr, 4, 3.0)
    assert len(joined) == 4 * 300 and starts[0] == 0 and starts[-1] == pytest.approx(57.0)
    assert joined[300] == y[int(starts[1] * sr)] and joined[-1] == y[-1]
    assert spread_excerpts(y[: 20 * sr], sr, 4, 3.0) is None  # under 2 × 4 excerpts: read it all


def test_read_excerpts_decodes_the_same_excerpts_as_the_whole_file(tmp_path):
    sr = 8_000
    y = np.random.default_rng(0).uniform(-0.5, 0.5, 40 * sr).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, np.stack([y, y], axis=1), sr, subtype="FLOAT")
    joined, starts, duration = read_excerpts(str(path), sr, 5, 3.0)
    expected, expected_starts = spread_excerpts(y, sr, 5, 3.0)
    assert duration == 40.0 and np.allclose(starts, expected_starts) and np.allclose(joined, expected)
    in_memory = read_excerpts((sr, y), sr, 5, 3.0)  # a (rate, samples) tuple takes the same path
    assert np.allclose(in_memory[0], expected)
    assert read_excerpts(str(path), sr, 5, 3.0, max_seconds=20.0) is None  # 20 s < 2 × 5 × 3 s
