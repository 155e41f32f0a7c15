"""Levels at the file's own rate and channels, checked on signals whose levels are known by construction
(EBU Tech 3341/3342 test cases, BS.1770 Annex 2 inter-sample peaks) and against pyloudnorm."""
import math

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from core import levels
from tests.conftest import EXAMPLES

SR = 48_000


def sine(db: float, seconds: float, freq: float = 1000.0, sr: int = SR, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (10 ** (db / 20) * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def test_ebu_3341_stereo_sine_at_minus_23_dbfs_reads_minus_23_lufs():
    x = sine(-23, 20)
    lv = levels.measure_array(np.stack([x, x]), SR)
    assert lv.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    assert lv.short_term_max_lufs == pytest.approx(-23.0, abs=0.1)
    assert lv.loudness_range_lu == pytest.approx(0.0, abs=0.1)
    assert lv.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01) and lv.rms_dbfs[0] == pytest.approx(-26.01, abs=0.02)


def test_ebu_3342_loudness_range_of_a_10_db_step_is_10_lu():
    x = np.concatenate([sine(-20, 20), sine(-30, 20)])
    lv = levels.measure_array(np.stack([x, x]), SR)
    assert lv.loudness_range_lu == pytest.approx(10.0, abs=0.2)


def test_true_peak_finds_the_inter_sample_peak_the_samples_miss():
    # a quarter-rate sine sampled 45 degrees off its crests: every sample is at 0.707 of the true peak
    x = sine(-6.0206, 2, freq=SR / 4, phase=math.pi / 4)
    lv = levels.measure_array(x, SR)
    assert lv.sample_peak_dbfs == pytest.approx(-9.03, abs=0.05)
    assert lv.true_peak_dbtp == pytest.approx(-6.02, abs=0.3)


def test_chunked_true_peak_equals_one_pass():
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, 10_000).astype(np.float32)
    assert levels.true_peak(x[None], chunk=1000) == pytest.approx(levels.true_peak(x[None], chunk=1 << 20), rel=1e-6)


def test_true_peak_equals_scipys_polyphase_interpolation():
    from scipy.signal import resample_poly

    x = np.random.default_rng(3).standard_normal(20_000).astype(np.float32) * 0.3
    x[5000:5004] = (0.9, -0.9, 0.9, -0.9)  # a run that overshoots between its samples
    assert levels.true_peak(x[None]) == pytest.approx(float(np.max(np.abs(resample_poly(x, 4, 1)))), rel=1e-5)


def test_integrated_loudness_equals_pyloudnorm_on_a_stereo_file_at_its_own_rate(tmp_path):
    rng = np.random.default_rng(1)
    left = sine(-12, 6, 440, 44_100) + 0.05 * rng.standard_normal(6 * 44_100).astype(np.float32)
    right = sine(-18, 6, 660, 44_100)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 44_100, subtype="PCM_24")
    lv = levels.measure(str(path))
    data, rate = sf.read(path)
    assert lv.sample_rate == 44_100 and lv.channels == 2
    assert lv.integrated_lufs == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(data), abs=0.01)
    assert lv.rms_dbfs[1] == pytest.approx(-21.03, abs=0.05)  # the right channel alone: a -18 dBFS sine
    assert lv.format == levels.FileFormat(44_100, 2, "FLAC", "24-bit")


def test_a_full_scale_peak_is_0_dbfs_not_what_resampling_makes_of_it(tmp_path):
    x = sine(-20, 3, 440, 44_100)
    x[44_100] = 1.0  # one full-scale sample
    path = tmp_path / "peak.wav"
    sf.write(path, np.stack([x, x], axis=1), 44_100, subtype="FLOAT")
    lv = levels.measure(str(path))
    assert lv.sample_peak_dbfs == pytest.approx(0.0, abs=1e-6) and lv.clipped_samples == 2
    assert lv.format.codec == "PCM (WAV)" and lv.format.bit_depth == "32-bit float"


def test_dc_offset_silent_channel_and_lossy_codec_are_reported(tmp_path):
    x = sine(-6, 2, 440, 44_100) + 0.1
    lv = levels.measure_array(np.stack([x, np.zeros_like(x)]), 44_100)
    assert lv.dc_offset[0] == pytest.approx(0.1, abs=1e-4) and lv.rms_dbfs[1] == -math.inf
    rows = dict(lv.as_rows())
    assert rows["RMS"].endswith("R -inf dBFS") and rows["DC offset"].startswith("L +0.1000")
    fmt = levels.file_format(EXAMPLES / "house_groove_124bpm.ogg")
    assert fmt.codec == "Vorbis" and fmt.bit_depth is None


def test_too_short_for_a_3_s_window_says_so_instead_of_a_number():
    lv = levels.measure_array(sine(-20, 1.0), SR)
    rows = dict(lv.as_rows())
    assert lv.integrated_lufs is not None and lv.short_term_max_lufs is None and lv.loudness_range_lu is None
    assert rows["Short-term max"] == "n/a (shorter than 3 s)"


def test_the_analysis_tab_reports_the_files_levels_not_the_analysis_copys(tmp_path):
    """The issue's case: a 44.1 kHz stereo file peaking at 0 dBFS read as 22.05 kHz, -1.5 dBFS, -3.6 LU quieter."""
    from core import analysis

    rng = np.random.default_rng(2)
    left = 0.3 * rng.standard_normal(44_100 * 4).astype(np.float32)
    right = -left  # out of phase: a mono mix-down would cancel to silence
    left[1000] = 1.0
    path = tmp_path / "wide.flac"
    sf.write(path, np.clip(np.stack([left, right], axis=1), -1, 1), 44_100, subtype="PCM_24")
    result = analysis.analyse_file(str(path))
    rows = dict(result.levels.as_rows())
    data, rate = sf.read(path)
    assert rows["Sample rate"] == "44100 Hz" and rows["Channels"] == "2" and rows["Sample peak"] == "0.0 dBFS"
    assert result.levels.integrated_lufs == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(data), abs=0.01)
    assert result.sr == 22_050  # the plots still use the analysis copy


def test_tempo_of_a_click_track_and_its_octave_control():
    from core import tempo

    sr, bpm = 22_050, 174.0
    y = np.zeros(int(20 * sr), np.float32)
    for k, t in enumerate(np.arange(0.5, 19.5, 60 / bpm)):
        i = int(t * sr)
        y[i: i + 300] += (1.0 if k % 2 == 0 else 0.5) * np.hanning(300).astype(np.float32)  # accented every other beat
    est = tempo.estimate(y, sr)
    assert est is not None and tempo.accuracy(est.bpm, bpm)[1]  # the right tempo or an octave of it (Acc2)
    assert est.scaled(2).bpm == pytest.approx(2 * est.bpm) and len(est.scaled(0.5).beats) == (len(est.beats) + 1) // 2
    assert tempo.accuracy(174.0 * 1.03, 174.0) == (True, True) and tempo.accuracy(87.0, 174.0) == (False, True)
    assert tempo.estimate(np.zeros(sr * 3, np.float32), sr) is None  # silence: no beat, not a guess


def test_key_of_a_rendered_bach_chorale_is_its_written_key():
    from core import analysis

    result = analysis.analyse_file(str(EXAMPLES / "bach_chorale_bwv66_6.flac"))
    assert result.key.name == "F# minor"  # BWV 66.6 is written in F# minor


@pytest.mark.parametrize("channels,sr", [(1, 44_100), (2, 48_000), (2, 22_050)])
def test_integrated_loudness_from_one_k_weighting_pass_equals_pyloudnorm(channels, sr):
    import pyloudnorm

    rng = np.random.default_rng(channels)
    x = rng.standard_normal((channels, 7 * sr)) * 0.1
    x[:, sr:2 * sr] *= 0.001  # a quiet second: below the relative gate
    x[:, 4 * sr:int(4.3 * sr)] = 0.0  # digital silence: below the absolute gate
    ours = levels.integrated_loudness(levels._k_weighted_power(x, sr), sr)
    assert ours == pytest.approx(pyloudnorm.Meter(sr).integrated_loudness(x.T), abs=1e-3)  # float32 filters
    assert levels.integrated_loudness(np.zeros(sr), sr) is None  # silence: no number
    assert levels.integrated_loudness(np.ones(int(0.3 * sr)), sr) is None  # shorter than one block
