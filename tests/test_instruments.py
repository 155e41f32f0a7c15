"""Instrument classification: features, both models learn, sliding-window predictions, batch tagging, hub mapping."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy.signal import resample_poly

from core.audio import AudioError
from core.data.instruments import CLASSES, PROGRAMS, RANGES, make_passage, place_in_range
from core.features import ast_log_mel
from core.instruments import api, data, train
from core.instruments.models import ASTClassifier, ASTSize, CNNConfig, InstrumentCNN
from tests.conftest import tone

SR = 16_000


def test_ast_log_mel_shape_and_padding():
    X = ast_log_mel(tone(440, 2.0, SR), SR)
    assert X.shape == (1 + (2 * SR - 400) // 160, 128)
    assert ast_log_mel(tone(440, 0.5, SR), SR, max_length=200).shape == (200, 128)
    with pytest.raises(ValueError, match="16 kHz"):
        ast_log_mel(tone(), 22_050)


def test_models_shapes():
    x = torch.randn(3, 200, 128)
    cnn = InstrumentCNN(CNNConfig())
    out = cnn(x)
    assert out.shape == (3, 8) and torch.allclose(out.exp().sum(1), torch.ones(3), atol=1e-5)
    ast = ASTClassifier(ASTSize(hidden_size=48, intermediate_size=96), list(CLASSES))
    assert ast(x).shape == (3, 8)
    assert ast.ast.config.num_hidden_layers == 2 and ast.ast.config.num_attention_heads == 12


def test_passages_stay_in_range():
    rng = np.random.default_rng(0)
    events = [(60 + (i * 5) % 19, 0.5) for i in range(40)]  # 60..78: outside the tenor saxophone's range
    for label in CLASSES:
        p = make_passage(label, events, rng, "t", seconds=8)
        notes = p.pm.instruments[0].notes
        assert p.program in PROGRAMS[label]
        assert notes and p.pm.get_end_time() <= 9
        onsets = {}
        for n in notes:
            onsets.setdefault(n.start, []).append(n.pitch)
        # The melody is what is placed in range: piano chords stack below it, power chords above it.
        melody = [max(ps) if label == "piano" else min(ps) for ps in onsets.values()]
        low, high = RANGES[label]
        assert low <= min(melody) and max(melody) <= high, label
        assert all(21 <= n.pitch <= 108 for n in notes)
    shifted = place_in_range(np.array([40, 90, 60]), 55, 80, rng)
    assert shifted.min() >= 55 and shifted.max() <= 80


def _toy_dataset(n_per_class=12, frames=298):
    """Two 'instruments' a network can tell apart: low sine clips vs high noisy clips, as log-mels."""
    rng = np.random.default_rng(0)
    X, y = [], []
    for k in range(n_per_class * 2):
        label = k % 2
        sig = tone(rng.uniform(150, 300) if label == 0 else rng.uniform(2000, 4000), 3.0, SR, 0.3)
        sig = sig + (0.05 * rng.standard_normal(len(sig)).astype(np.float32) if label else 0)
        X.append(ast_log_mel(sig, SR, max_length=frames))
        y.append(label)
    return torch.tensor(np.stack(X)), torch.tensor(y)


@pytest.mark.parametrize("kind,lr", [("cnn", 1e-3), ("ast", 1e-3)])
def test_both_models_train_with_falling_loss(kind, lr, monkeypatch):
    torch.set_num_threads(1)
    if kind == "ast":  # a narrow AST keeps the test fast; the architecture's shape is unchanged
        monkeypatch.setattr(train, "build_model", lambda k, n, labels: ASTClassifier(
            ASTSize(n_classes=n, frames=train.CROP_FRAMES, hidden_size=48, intermediate_size=96), labels))
    X, y = _toy_dataset()
    model, history = train.train(X, y, X[:6], y[:6], ["low", "high"], kind=kind, epochs=4, batch=8, lr=lr,
                                 log_every_epoch=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] >= 0.5


def test_class_weights_follow_the_paper():
    w = train.class_weights(np.array([0, 0, 0, 1]), 2)
    assert torch.allclose(w, torch.tensor([0.25, 0.75]))


def test_scan_layouts_and_errors(tmp_path):
    for font in ("A", "B"):
        for cls in ("flute", "violin"):
            (tmp_path / "fonts" / font / cls).mkdir(parents=True)
            for k in range(2):
                sf.write(tmp_path / "fonts" / font / cls / f"tune1_{k}.wav", tone(440, 3.0, SR), SR)
    items = data.scan(tmp_path / "fonts")
    assert {i.collection for i in items} == {"A", "B"} and {i.label for i in items} == {"flute", "violin"}
    assert {i.group for i in items} == {"tune1"}
    (tmp_path / "one" / "flute").mkdir(parents=True)
    sf.write(tmp_path / "one" / "flute" / "a.wav", tone(), SR)
    with pytest.raises(ValueError, match="at least two"):
        data.scan(tmp_path / "one")
    (tmp_path / "empty" / "x").mkdir(parents=True)
    with pytest.raises(ValueError, match="No audio"):
        data.scan(tmp_path / "empty")


@pytest.fixture(scope="module")
def cnn():
    return api.load("cnn")


def test_predict_windows_and_ranking(cnn):
    rng = np.random.default_rng(1)
    y = (0.3 * tone(440, 9.0, SR) + 0.01 * rng.standard_normal(9 * SR)).astype(np.float32)
    result = api.predict(y, SR, cnn)
    assert result.window_probabilities.shape == (8, 8)  # 2 s windows, 1 s hop over 9 s
    assert np.allclose(result.window_probabilities.sum(1), 1, atol=1e-4)
    assert result.probabilities.sum() == pytest.approx(1, abs=1e-4)
    assert result.ranking()[0][1] == pytest.approx(result.probabilities.max())
    segs = result.segments()
    assert segs[0][0] == 0 and segs[-1][1] <= result.duration + 1e-6
    # Resampling path: the same signal at 44.1 kHz (upsampled with scipy, not the app's resampler)
    # gives the same windows and probabilities; unresampled it would read as 24 windows over 24.8 s.
    y44 = resample_poly(y, 441, 160).astype(np.float32)
    at44 = api.predict(y44, 44_100, cnn)
    assert at44.times.tolist() == result.times.tolist()
    assert at44.duration == pytest.approx(result.duration)
    np.testing.assert_allclose(at44.window_probabilities, result.window_probabilities, atol=1e-3)


def test_bundled_example_is_recognised(cnn):
    from tabs.instruments import INSTRUMENT_EXAMPLES

    result = api.predict_file(INSTRUMENT_EXAMPLES / "violin.flac", model="cnn")
    assert result.ranking()[0][0] == "violin"


def test_clips_under_a_second_are_refused_longer_short_ones_padded_and_silence_refused(cnn):
    with pytest.raises(AudioError, match="at least 1 s"):
        api.predict(tone(440, 0.5, SR), SR, cnn)
    short = api.predict(tone(440, 1.5, SR), SR, cnn)
    assert short.padded and short.window_probabilities.shape[0] == 1
    with pytest.raises(AudioError, match="silent"):
        api.predict(np.zeros(SR * 3, dtype=np.float32), SR, cnn)


def test_batch_tagging_skips_unreadable(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(440, 3.0, SR), SR)
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    out = tmp_path / "tags.csv"
    rows, skipped = api.tag_files([str(good), str(bad)], model="cnn", csv_path=out)
    assert [r["file"] for r in rows] == ["good.wav"] and skipped[0][0] == "bad.wav"
    lines = out.read_text().splitlines()
    assert lines[0].startswith("file,instrument,probability,uncertain,clarinet") and len(lines) == 3  # bad.wav kept
    assert lines[2].startswith("bad.wav,") and lines[0].endswith(",skipped")


def test_hub_path_with_a_tiny_local_checkpoint(tmp_path, monkeypatch):
    """The Hub code path (from_pretrained + AudioSet label mapping), offline, with a checkpoint made here."""
    from transformers import ASTConfig, ASTForAudioClassification

    names = ["Speech", "Violin, fiddle", "Flute", "Piano", "Trumpet", "Saxophone", "Clarinet", "Electric guitar",
             "Female singing"]
    config = ASTConfig(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48, max_length=200,
                       num_labels=len(names), id2label=dict(enumerate(names)),
                       label2id={n: i for i, n in enumerate(names)})
    ASTForAudioClassification(config).save_pretrained(tmp_path / "tiny-ast")
    clf = api.load(str(tmp_path / "tiny-ast"))
    assert clf.label_map.shape == (9, 8) and clf.label_map[0].sum() == 0  # "Speech" maps to nothing
    result = api.predict(tone(440, 3.0, SR), SR, clf)
    assert result.probabilities.shape == (8,) and result.probabilities.sum() == pytest.approx(1, abs=1e-4)
    monkeypatch.setenv("MUSIC_STUDIO_OFFLINE", "1")  # never reach for the network in tests
    with pytest.raises(ValueError, match="Could not load"):
        api.load("hub:no-such-org/no-such-model-offline-test")


def test_a_mistyped_model_name_is_an_error_not_a_hub_download(monkeypatch):
    def no_hub(name):
        raise AssertionError(f"{name!r} went to the Hub")

    monkeypatch.setattr(api, "_load_hub", no_hub)
    for typo in ("cnnn", "no-such-org/no-such-model"):
        with pytest.raises(ValueError, match="Unknown instrument model.*hub:<id>"):
            api.load(typo)
    monkeypatch.setenv(api.HUB_ENV, "MIT/ast-finetuned-audioset-10-10-0.4593")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("MUSIC_STUDIO_OFFLINE", raising=False)
    assert api.hub_model() == "hub:MIT/ast-finetuned-audioset-10-10-0.4593"


def test_cards_hold_the_papers_tables():
    for name in api.PAPER_MODELS:
        card = json.loads((api.MODEL_DIR / name / "card.json").read_text())
        test = next(v for k, v in card["metrics"].items() if k.startswith("test_held_out_soundfont"))
        assert set(test["report"]) >= {"violin", "macro avg", "weighted avg"}
        assert np.array(test["confusion"]).shape == (8, 8)


def test_a_freshly_trained_folder_loads_predicts_and_reports_what_the_tab_shows(tmp_path):
    """Train from the CLI on a tiny folder-per-class set; the folder is then a model like a bundled one."""
    from core.instruments import train

    data = tmp_path / "data"
    for font in ("fontA", "fontB"):
        for label, f0 in (("flute", 880.0), ("violin", 220.0)):
            (data / font / label).mkdir(parents=True)
            for k in range(4):
                sf.write(data / font / label / f"piece{k}_{k}.wav", tone(f0 * (1 + k / 10), 2.5, SR), SR)
    out = tmp_path / "model"
    train.main(["--data", str(data), "--model", "cnn", "--holdout", "fontB", "--epochs", "2", "--batch", "4",
                "--threads", "1", "--out", str(out)])
    clf = api.load(str(out))
    result = clf.predict(tone(880, 3.0, SR), SR)
    assert clf.labels == ["flute", "violin"] and result.probabilities.shape == (2,)
    r = api.report(str(out))
    assert "test held out soundfont fontB" in r.markdown and "python -m core.instruments.train" in r.markdown
    assert {row[0] for row in r.rows} >= {"flute", "violin", "macro avg"}
    assert len(r.confusion) == 2 and r.labels == clf.labels
