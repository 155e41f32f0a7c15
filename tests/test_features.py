"""core.features and core.analysis: shapes, ranges and the papers' parameters."""
import numpy as np
import pytest

from core import analysis, features
from tests.conftest import EXAMPLES, tone

SR = 22_050


def test_log_mel_shape_and_range():
    y = tone(440, 2.0, SR)
    S = features.log_mel(y, SR)
    assert S.shape == (128, 1 + len(y) // 512)
    assert S.max() == pytest.approx(0.0) and S.min() >= -80.0 - 1e-3


def test_chroma_finds_the_pitch_class():
    C = features.chroma(tone(440, 1.0, SR), SR)  # A4
    assert C.shape[0] == 12
    assert np.argmax(C.mean(axis=1)) == 9  # A


def test_zcr_tracks_frequency():
    low, high = features.zcr(tone(200, 1.0, SR)), features.zcr(tone(2000, 1.0, SR))
    assert low.ndim == 1
    assert np.median(high) == pytest.approx(10 * np.median(low), rel=0.1)
    assert np.median(low) == pytest.approx(2 * 200 / SR, rel=0.1)


def test_mfcc_shape():
    assert features.mfcc(tone(), SR).shape[0] == 20


def test_hpss_splits_tone_from_clicks():
    y = tone(440, 1.0, SR, 0.3)
    clicks = np.zeros_like(y)
    clicks[:: SR // 8] = 1.0
    harmonic, percussive = features.hpss(y + clicks)
    assert harmonic.shape == y.shape == percussive.shape
    assert np.abs(np.fft.rfft(harmonic))[440] > np.abs(np.fft.rfft(percussive))[440]  # 1 s: bin = Hz
    click_idx = np.arange(0, len(y), SR // 8)[1:-1]
    assert np.abs(percussive[click_idx]).mean() > np.abs(harmonic[click_idx] - y[click_idx]).mean()


def test_frame_times():
    assert features.frame_times(3, SR)[-1] == pytest.approx(1024 / SR)


def test_analyse_example_file():
    result = analysis.analyse_file(EXAMPLES / "bach_chorale_bwv66_6.flac")
    frames = result.log_mel.shape[1]
    assert result.sr == 22_050
    assert result.chroma.shape == (12, frames) and result.zcr.shape == (frames,)
    assert not result.trimmed
    assert result.stats.loudness_lufs is not None and -40 < result.stats.loudness_lufs < 0


def test_analyse_trims_long_input_and_says_so():
    y = tone(440, 4.0, 8_000)
    result = analysis.analyse_file((8_000, y), max_seconds=1.0)
    assert result.stats.duration_s == pytest.approx(1.0)
    assert result.trimmed and result.source_duration_s == pytest.approx(4.0)


@pytest.mark.parametrize("seconds, max_length", [(2.0, None), (2.0, 150), (0.7, 200)])
def test_one_ast_front_end_equals_transformers_extractor_cut_and_padded(seconds, max_length):
    from core.features import AST_SR, ast_feature_extractor, ast_log_mel

    y = np.random.default_rng(1).uniform(-0.5, 0.5, int(seconds * AST_SR)).astype(np.float32)
    ours = ast_log_mel(y, AST_SR, max_length=max_length)
    frames = max_length or 1 + (len(y) - 400) // 160
    theirs = ast_feature_extractor(frames)(y, sampling_rate=AST_SR, return_tensors="np")["input_values"][0]
    assert ours.shape == theirs.shape == (frames, 128)
    assert np.abs(ours - theirs).max() < 1e-3  # float32 rounding only


def test_genre_and_instruments_read_the_same_ast_features():
    from core.features import AST_SR, ast_log_mel
    from core.genre.features import AST_FRAMES, ast_excerpts

    y = np.random.default_rng(2).uniform(-0.5, 0.5, 7 * AST_SR).astype(np.float32)
    X, starts = ast_excerpts(y, AST_SR)
    second = ast_log_mel(y[int(starts[1] * AST_SR):], AST_SR, max_length=AST_FRAMES)
    assert np.abs(X[1] - second).max() < 1e-4  # an excerpt of the whole-song pass = the excerpt on its own
