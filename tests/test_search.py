"""Loop and sample search: window distances, Algorithm 1 with a simulated user, errors, export, encoder training."""
import csv
import json

import numpy as np
import pytest
import torch

from core.search import SearchEnded, SearchSession, dataset, get_best_samples, prepare, spaces
from core.search.api import WindowIndex, available, check_query
from core.search.evaluate import overlap, retrieve, simulated_user
from core.search.models import BYOLAE, Encoder, EncoderConfig
from core.search.train import augment, train

SR = spaces.SR


def planted_track(starts=(2.0, 7.0, 12.5, 17.0), seconds=20.0, seed=0):
    """Quiet noise and a chord under a melody, with one chirp burst ("the sample") at ``starts``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.02 * rng.standard_normal(len(t)) + 0.05 * np.sin(2 * np.pi * 110 * t)
    y += 0.05 * np.sin(2 * np.pi * (330 + 40 * np.floor(t)) * t)  # a background that changes every second
    n = int(0.4 * SR)
    tc = np.arange(n) / SR
    burst = 0.4 * np.sin(2 * np.pi * (800 + 3000 * tc) * tc) * np.hanning(n)
    for s in starts:
        a = int(s * SR)
        y[a:a + n] += burst
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def track():
    return prepare(planted_track(), SR, "mfcc", name="planted")


def test_window_distances_match_brute_force():
    X = torch.randn(200, 6)
    index = WindowIndex(X, L=16, blocks=4)
    prof = index.profile(30)
    assert prof.shape == (200 - 16 + 1,)
    def emb(w):  # the 4 block means of window w, concatenated
        return torch.cat([X[w + o: w + o + index.l].mean(0) for o in index.offsets])
    for w in (0, 30, 77, 184):
        want = (emb(w) - emb(30)).pow(2).sum() / (4 * 6)
        assert prof[w].item() == pytest.approx(want.item(), abs=1e-4)
    assert prof[30].item() == pytest.approx(0.0, abs=1e-5)


def test_get_best_samples_finds_the_planted_pattern_and_never_an_answered_window():
    torch.manual_seed(0)
    X = torch.randn(400, 8)
    pattern = torch.randn(20, 8) * 3
    for s in (50, 180, 300):
        X[s:s + 20] = pattern + 0.1 * torch.randn(20, 8)
    assert get_best_samples(X, [50], [], 20) == [180] or get_best_samples(X, [50], [], 20) == [300]
    best = get_best_samples(X, [50, 180], [], 20, k=3)
    assert best[0] == 300
    assert all(abs(b - a) >= 20 for b in best for a in (50, 180))
    mask = available(381, 20, [50])
    assert not mask[31:70].any() and mask[30] and mask[70]


def test_simulated_search_finds_every_planted_occurrence(track):
    truth = [7.0, 12.5, 17.0]
    assert retrieve(track, 2.0, 0.4, truth, patience=5) == 1.0
    s = SearchSession(track, 2.0, 0.4, patience=5)
    user = simulated_user(truth, 0.4)
    proposals = []
    while (t := s.propose()) is not None:
        proposals.append(t)
        s.feedback(t, user(t))
    assert len(s.negatives) == 5 and s.ended and len(s.positives) == 4
    assert sorted(round(p) for p in s.positives[1:]) == [7, 12, 17]
    for a in proposals:  # no two proposals overlap
        assert all(a == b or abs(a - b) >= 0.4 - 1 / spaces.FRAME_RATE for b in proposals)


def test_naive_baseline_ignores_answers_but_excludes_them(track):
    s = SearchSession(track, 2.0, 0.4, learn=False, patience=2)
    t1 = s.propose()
    s.feedback(t1, False)
    assert s.propose() != t1


def test_session_guards_double_clicks_undo_and_the_end(track):
    s = SearchSession(track, 2.0, 0.4, patience=1)
    t = s.propose()
    assert s.propose() == t  # the same proposal until it is answered
    assert s.feedback(t, True) is True
    assert s.feedback(t, True) is False  # the second click changes nothing
    assert s.feedback(2.0, False) is False  # the query itself
    t2 = s.propose()
    s.feedback(t2, False)
    assert s.ended and s.propose() is None
    with pytest.raises(SearchEnded, match="ended"):
        s.feedback(15.0, True)
    assert s.undo() == t2 and not s.ended and s.propose() == t2
    s.stop()
    assert s.ended and s.propose() is None


@pytest.mark.parametrize("t0,d,msg", [
    (19.9, 0.4, "outside the track"), (-1, 0.4, "outside"), (2.0, 0.05, "at least 0.1"),
    (1.0, 7.0, "more than a third"), (float("nan"), 0.4, "must be a number"), (None, 0.4, "must be a number"),
])
def test_bad_queries_are_clear_errors(track, t0, d, msg):
    with pytest.raises(ValueError, match=msg):
        SearchSession(track, t0, d)


def test_bad_tracks_are_clear_errors():
    with pytest.raises(ValueError, match="silent"):
        prepare(np.zeros(SR * 5, np.float32), SR)
    with pytest.raises(ValueError, match="shorter than half a second"):
        prepare(np.ones(1000, np.float32), SR)
    with pytest.raises(ValueError, match="22050 Hz"):
        prepare(planted_track(), 16_000)
    with pytest.raises(ValueError, match="Unknown feature space"):
        prepare(planted_track(), SR, "chroma")
    assert check_query(10.0, "1.5", 2) == (1.5, 2.0)


def test_export_csv_and_json(track, tmp_path):
    s = SearchSession(track, 2.0, 0.4)
    t = s.propose()
    s.feedback(t, True)
    track._tempo = (120.0, 0.5)  # a known tempo: beat = (t − 0.5) × 2
    rows = list(csv.DictReader(open(s.to_csv(tmp_path / "a.csv"))))
    assert rows[0] == {"start_s": "2.0", "end_s": "2.4", "start_beat": "3.0", "end_beat": "3.8", "source": "query"}
    assert rows[1]["source"] == "found" and float(rows[1]["start_s"]) == pytest.approx(t)
    doc = json.loads(open(s.to_json(tmp_path / "a.json")).read())
    assert doc["tempo_bpm"] == 120.0 and len(doc["occurrences"]) == 2 and doc["query"]["duration_s"] == 0.4
    track._tempo = ()  # no steady beat: seconds only
    assert open(s.to_csv(tmp_path / "b.csv")).readline().strip() == "start_s,end_s,source"
    track._tempo = None
    fixed = SearchSession(track, 2.0, 0.4, bpm=90, first_beat=1.0)  # the user's tempo and beat 0, taken as given
    assert fixed.occurrences()[0]["start_beat"] == 1.5 and fixed.to_dict()["first_beat_s"] == 1.0
    with pytest.raises(ValueError, match="between 20 and 400; got 1000"):
        SearchSession(track, 2.0, 0.4, bpm=1000)
    for bad in (float("nan"), "fast", float("inf")):
        with pytest.raises(ValueError, match="tempo"):
            SearchSession(track, 2.0, 0.4, bpm=bad)
    with pytest.raises(ValueError, match="Beat 0 .* a number"):
        SearchSession(track, 2.0, 0.4, bpm=120, first_beat=float("nan"))
    with pytest.raises(ValueError, match="Patience"):
        SearchSession(track, 2.0, 0.4, patience=1e30)
    with pytest.raises(ValueError, match="outside the track"):
        SearchSession(track, 2.0, 0.4, bpm=120, first_beat=99)


def test_simulated_user_answers_yes_once_per_occurrence():
    assert overlap(1.0, 1.3, 1.0) == pytest.approx(0.7)
    user = simulated_user([10.0, 20.0], 1.0)
    assert user(10.4) and not user(10.2)  # found already
    assert not user(20.6)  # overlaps by 0.4 < 50 %
    assert user(19.5) and user.found == {0, 1}


def test_encoder_shapes_and_chunked_encoding_equals_one_pass():
    cfg = EncoderConfig(channels=16, residual=False)
    enc = Encoder(cfg).eval()
    mel = np.random.default_rng(0).standard_normal((128, 300)).astype(np.float32)
    whole = enc(torch.from_numpy(mel)[None])[0].T
    chunked = spaces.encode(mel, enc, chunk=64)
    assert chunked.shape == (300, 16)
    assert torch.allclose(whole, chunked, atol=1e-5)
    res = Encoder(EncoderConfig()).eval()  # the bundled shape: 128 channels with the skip from the mel
    assert spaces.encode(mel, res, chunk=100).shape == (300, 128)


def test_byol_ae_losses_go_down_on_tiny_data():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((128, 40)).astype(np.float32)
    mels = [(np.tile(base, (1, 10)) + 0.1 * rng.standard_normal((128, 400)).astype(np.float32), None)]
    torch.set_num_threads(1)
    seen = []
    _, hist = train(mels, EncoderConfig(channels=16, residual=False), iters=60, batch=8, frames=32, lr=3e-3, hpss=False,
                    log_every=20, progress=lambda f, m: seen.append((f, m)))
    assert [f for f, _ in seen] == [1 / 60, 20 / 60, 40 / 60, 1.0] and "byol" in seen[-1][1]  # (fraction, message)
    assert np.mean(hist["ae"][-10:]) < 0.9 * np.mean(hist["ae"][:5])
    assert np.mean(hist["total"][-10:]) < np.mean(hist["total"][:5])
    x = torch.zeros(2, 128, 10)
    aug = augment(x, torch.Generator().manual_seed(0))
    assert aug.shape == x.shape and aug.std() > 0.1  # noise and dropped bins
    m = BYOLAE(EncoderConfig(channels=8, residual=False))
    before = [p.clone() for p in m.target_encoder.parameters()]
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    m.update_target()
    assert all(not torch.equal(a, b) for a, b in zip(before, m.target_encoder.parameters()))


def test_generator_truth_is_consistent():
    for genre in dataset.GENRES:
        stems, targets, tempo, sections = dataset.arrange(genre, 3, seconds=60)
        end = sections[-1][2]
        assert {t.kind for t in targets} <= {"sample", "loop"} and any(t.kind == "sample" for t in targets)
        for t in targets:
            assert t.starts == sorted(t.starts) and len(t.starts) >= 2 and t.starts[-1] + t.duration <= end + 0.01
            gaps = np.diff(t.starts)
            assert (gaps >= t.duration - 0.01).all()  # occurrences never overlap
        assert set(stems) == {"background"} | {t.name.split("_")[0] for t in targets}
    again = dataset.arrange("house", 3, seconds=60)[1]
    assert [t.starts for t in again] == [t.starts for t in dataset.arrange("house", 3, seconds=60)[1]]


def test_bundled_example_has_truth_and_the_search_finds_its_vocal_chop():
    from core.audio import load_audio
    from tests.conftest import EXAMPLES

    path = EXAMPLES / "search" / "drum_and_bass_loops_and_samples.ogg"
    truth = json.loads(path.with_suffix(".json").read_text())
    y, sr = load_audio(path, sr=SR)
    assert abs(len(y) / sr - truth["duration"]) < 0.1
    loop = next(t for t in truth["targets"] if t["name"] == "loop2")
    tr = prepare(y, sr, "mfcc")
    assert retrieve(tr, round(loop["starts"][0], 1), round(loop["duration"], 1), loop["starts"][1:], kind="loop") == 1.0


def test_bundled_encoder_gives_a_128_dim_sequence(track):
    learned = prepare(track.y, SR, "learned")
    assert learned.X.shape == (track.X.shape[0], 128)
    assert torch.isfinite(learned.X).all()
    assert retrieve(learned, 2.0, 0.4, [7.0, 12.5, 17.0]) >= 2 / 3


@pytest.mark.parametrize("space", list(spaces.SPACES))
def test_every_offered_space_finds_the_planted_sample(track, space):
    tr = prepare(track.y, SR, space)
    assert tr.X.dtype == torch.float32 and tr.X.shape[0] == track.X.shape[0]
    C = tr.X.T.double() @ tr.X.double() / len(tr.X)  # whitened: decorrelated, strong directions at unit variance
    assert (C - torch.diag(torch.diag(C))).abs().max() < 1e-3 and C.diag().max() < 1.001 and C.diag().max() > 0.99
    assert retrieve(tr, 2.0, 0.4, [7.0, 12.5, 17.0]) == 1.0


def test_musicnn_space_gives_whitened_frames_on_the_search_frame_grid():
    from core.search import spaces

    rng = np.random.default_rng(0)
    y = (rng.standard_normal(spaces.SR * 5) * 0.1).astype(np.float32)
    X = spaces.extract(y, spaces.SR, "musicnn")
    assert X.shape == (1 + len(y) // spaces.HOP_LENGTH, 64)
    cov = np.cov(X.numpy().T)
    off = cov - np.diag(np.diag(cov))
    assert np.all((np.diag(cov)[:10] > 0.5) & (np.diag(cov)[:10] < 1.5)) and np.abs(off).max() < 0.05  # whitened
