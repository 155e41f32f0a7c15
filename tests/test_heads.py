"""Heads on the musicnn backbones: fitting, saving, zero-shot mapping, tags, refusals, realism augmentations."""
from pathlib import Path

import numpy as np
import pytest

from core.audio import AudioError
from core.backbones import musicnn, tagging
from core.classify import heads
from core.classify.data import Item
from core.classify.evaluate import per_item, score
from core.classify.tasks import GENRE, INSTRUMENTS, zero_shot_scores
from core.data import realism

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


def _two_blobs(n=60, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(0, 1, (n, d)), rng.normal(2, 1, (n, d))]).astype(np.float32)
    return X, np.array([0] * n + [1] * n)


def test_fit_head_loss_goes_down_and_separates_two_classes():
    X, y = _two_blobs()
    head, losses = heads.fit_head(X, y, ["a", "b"], epochs=80, feature="tags")
    assert losses[-1] < 0.5 * losses[0]
    assert (head.predict_proba(X).argmax(1) == y).mean() > 0.95


def test_fit_head_reports_progress_and_can_be_cancelled():
    from core.training import Cancelled

    X, y = _two_blobs()
    calls = []
    with pytest.raises(Cancelled):
        heads.fit_head(X, y, ["a", "b"], epochs=50, progress=lambda f, m: calls.append((f, m)),
                       cancel=lambda: len(calls) >= 3)
    assert len(calls) == 3 and calls[0][0] == pytest.approx(1 / 50) and "loss" in calls[0][1]


def test_head_from_pretrained_rebuilds_any_hidden_size_from_config(tmp_path):
    X, y = _two_blobs(d=7)
    head, _ = heads.fit_head(X, y, ["a", "b"], hidden=16, epochs=5)
    head.save_pretrained(str(tmp_path))
    again = heads.TagHead.from_pretrained(str(tmp_path))
    assert again.labels == ["a", "b"] and again.net[1].out_features == 16
    np.testing.assert_allclose(again.predict_proba(X), head.predict_proba(X), atol=1e-6)


def test_zero_shot_scores_take_each_class_best_mapped_tag_and_zero_for_unmapped():
    mtt, msd = musicnn.MTT_LABELS, musicnn.MSD_LABELS
    a = np.zeros((1, 50), np.float32)
    b = np.zeros((1, 50), np.float32)
    a[0, mtt.index("violin")] = 0.7
    b[0, msd.index("Hip-Hop")] = 0.4
    s = zero_shot_scores(INSTRUMENTS, a, b, mtt, msd)[0]
    assert s[INSTRUMENTS.labels.index("violin")] == pytest.approx(0.7)
    assert s[INSTRUMENTS.labels.index("clarinet")] == 0.0
    g = zero_shot_scores(GENRE, a, b, mtt, msd)[0]
    assert g[GENRE.labels.index("hiphop")] == pytest.approx(0.4)
    assert g[GENRE.labels.index("classical")] == pytest.approx(0.7)


def test_check_audio_refuses_silence_and_clips_under_a_second_and_flags_padding():
    with pytest.raises(AudioError, match="at least 1 s"):
        tagging.check_audio(np.ones(100, np.float32), 16000, "its genre")
    with pytest.raises(AudioError, match="silent"):
        tagging.check_audio(np.zeros(32000, np.float32), 16000, "its genre")
    assert "repeated to fill 3 s" in tagging.check_audio(np.ones(32000, np.float32) * 0.1, 16000, "its genre")[0]
    assert tagging.check_audio(np.ones(64000, np.float32) * 0.1, 16000, "its genre") == []


def test_tag_prediction_ranks_both_taggers_and_writes_one_csv_row_per_patch(tmp_path):
    y, sr = musicnn.SR, None
    import soundfile as sf

    y, sr = sf.read(Path(__file__).parent / "data" / "musicnn" / "clip_rock.wav", dtype="float32")
    t = tagging.tag(y, sr)
    ranked = t.ranked()
    assert len(ranked) == 100 and ranked[0][2] >= ranked[-1][2] and {r[0] for r in ranked} == {"MTT", "MSD"}
    names, values = t.taggram(5)
    assert len(names) == 5 and values.shape == (5, len(t.starts))
    lines = open(t.to_csv(tmp_path / "t.csv")).read().splitlines()
    assert len(lines) == 1 + len(t.starts) and lines[0].startswith("start_s,end_s,MTT:guitar")


def test_score_counts_per_class_and_macro_only_over_classes_with_enough_recordings():
    items = [Item(Path(f"{i}"), "rock", "g", "real") for i in range(5)] + [Item(Path("x"), "jazz", "h", "real")]
    s = score(GENRE, items, ["rock"] * 4 + ["jazz", "jazz"])
    assert s["per_class"]["rock"]["correct"] == 4 and s["measured_classes"] == ["rock"]
    assert s["macro_accuracy"] == pytest.approx(0.8) and s["per_class"]["jazz"]["n"] == 1


def test_per_item_averages_each_recordings_patches():
    P = np.array([[1, 0], [0, 1], [1, 0]], np.float32)
    np.testing.assert_allclose(per_item(P, np.array([0, 0, 1]), 2), [[0.5, 0.5], [1, 0]])


@pytest.mark.parametrize("name", realism.NAMES)
def test_realism_augmentation_keeps_length_changes_the_signal_and_is_seeded(name):
    rng = np.random.default_rng(0)
    y = (np.sin(np.linspace(0, 3000, 16000 * 2)) * 0.3 + rng.normal(0, 0.01, 32000)).astype(np.float32)
    a, b = realism.augment(y, 16000, name), realism.augment(y, 16000, name)
    assert a.shape == y.shape and np.abs(a).max() <= 1.0
    assert np.abs(a - y).mean() > 1e-4
    np.testing.assert_array_equal(a, b)


def test_unknown_augmentation_is_refused():
    with pytest.raises(ValueError, match="room"):
        realism.augment(np.zeros(100, np.float32), 16000, "vinyl")
