"""One classifier engine for both tabs, and one backbone pass per upload."""
from pathlib import Path

import numpy as np
import pytest

from core.backbones import embed as embedding
from core.backbones import musicnn
from core.classify.engine import classify
from core.classify.heads import load_head
from core.genre import api as genre_api
from core.instruments import api as inst_api

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"


def _tone(seconds=7.0, f=440.0, sr=musicnn.SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t) * (1 + 0.2 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = musicnn.embed_audio

    def spy(net, y, sr, hop, **kw):
        calls.append((net.source, len(y), hop))
        return real(net, y, sr, hop, **kw)

    monkeypatch.setattr(musicnn, "embed_audio", spy)
    embedding.forget()
    yield calls
    embedding.forget()


def test_the_same_upload_runs_the_backbones_once(counted):
    y = _tone()
    a = embedding.embed(y)
    assert len(counted) == 2  # both taggers
    b = embedding.embed(y.copy())  # same content, another array
    assert len(counted) == 2 and b["mtt"] is a["mtt"]
    embedding.embed(y, hop_seconds=1.5)  # another hop is another pass
    assert len(counted) == 4
    embedding.embed(_tone(f=220.0))
    assert len(counted) == 6


def test_both_backbones_read_one_log_mel_side_by_side_and_answer_as_one_after_the_other(counted, monkeypatch):
    mels = []
    real_mel = musicnn.audio_mel
    monkeypatch.setattr(musicnn, "audio_mel", lambda y, sr: mels.append(1) or real_mel(y, sr))
    y = _tone()
    side_by_side = embedding.embed(y, reuse=False)
    assert len(mels) == 1 and len(counted) == 2
    monkeypatch.setattr(embedding, "PARALLEL", False)
    one_by_one = embedding.embed(y, reuse=False)
    for b in embedding.BACKBONES:
        np.testing.assert_array_equal(side_by_side[b].tags, one_by_one[b].tags)


def test_a_cancelled_request_stops_the_backbone_running_beside_it(monkeypatch):
    from core.training import Cancelled, cancel_scope

    embedding.forget()
    with cancel_scope(lambda: True), pytest.raises(Cancelled):
        embedding.embed(_tone(), reuse=False)


def test_kept_uploads_are_bounded(counted, monkeypatch):
    monkeypatch.setattr(embedding, "MEMORY_ENTRIES", 2)
    tones = [_tone(4.0, f) for f in (200.0, 300.0, 400.0)]
    for y in tones:
        embedding.embed(y)
    assert len(embedding._memory) == 2
    embedding.embed(tones[0])  # the oldest was let go: computed again
    assert len(counted) == 8


def test_genre_and_instruments_tags_come_from_one_pass(counted):
    y = _tone(7.0)
    genre_api.load("prior").predict(y, musicnn.SR)
    n = len(counted)
    tags = genre_api.load("prior").predict(y, musicnn.SR).tags  # the tab's rerun, the API, the tags endpoint
    assert len(counted) == n and tags is not None


def test_classify_gives_per_patch_probabilities_tags_and_notices():
    head = load_head(MODELS / "instruments" / "prior")
    run = classify(_tone(2.0), musicnn.SR, head, what="the instrument")
    assert run.probs.shape == (1, len(head.labels)) and np.allclose(run.probs.sum(1), 1, atol=1e-5)
    assert run.padded and run.tags.mtt.shape == (1, 50) and run.duration == pytest.approx(2.0)
    with pytest.raises(Exception, match="silent|signal"):
        classify(np.zeros(musicnn.SR * 3, np.float32), musicnn.SR, head)


def test_both_tabs_read_the_same_patches_through_the_engine():
    y = _tone(9.0)
    g = genre_api.load("prior").predict(y, musicnn.SR)
    i = inst_api.predict(y, musicnn.SR, "prior", hop_seconds=musicnn.PATCH_SECONDS)
    assert len(g.starts) == len(i.times)
    np.testing.assert_allclose(i.times - musicnn.PATCH_SECONDS / 2, g.starts, atol=1e-6)
    np.testing.assert_allclose(g.tags.mtt, i.tags.mtt)


def test_hub_labels_pool_by_their_maximum_for_both_tabs():
    from core.classify.heads import pool_labels

    s = np.array([[0.9, 0.8, 0.7, 0.2]])  # class a has three related labels, class b one
    p = pool_labels(s, [[0, 1, 2], [3], []])
    np.testing.assert_allclose(p, [[0.9 / 1.1, 0.2 / 1.1, 0.0]], atol=1e-6)  # not 2.4 / 2.6: counting is no evidence
