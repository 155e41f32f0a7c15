"""The default genre/instrument model: the zero-shot tag mapping as a prior, a correction pulled back to it,
a temperature, and the notices that say when a verdict is a close call or a guess."""
import json

import numpy as np
import pytest

from core.backbones import musicnn
from core.classify import heads
from core.classify.prior import choose, fit_temperature, mapping_of, uncertain
from core.classify.tasks import GENRE, INSTRUMENTS

LABELS = list(INSTRUMENTS.labels)
MAPPING = mapping_of(INSTRUMENTS)
COLUMNS = heads.tag_columns(LABELS, MAPPING, "penultimate+tags")


def _rows(n=240, seed=0):
    """Feature rows (2 × (200 penultimate + 50 tags)) whose mapped tags fire for their class; the classes
    with no tag are told apart by the penultimate features only."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 500)).astype(np.float32) * 0.2
    y = rng.integers(0, len(LABELS), n)
    for i, c in enumerate(y):
        if COLUMNS[c]:
            X[i, COLUMNS[c]] = 0.9
        else:
            X[i, c * 10:(c + 1) * 10] += 3.0  # a penultimate pattern of its own
    return X, y


def test_tag_columns_point_at_the_named_tags_in_the_feature_rows():
    mtt = musicnn.MTT_LABELS
    violin = COLUMNS[LABELS.index("violin")]
    assert 200 + mtt.index("violin") in violin  # MTT's block: 200 penultimate, then its 50 tags
    assert COLUMNS[LABELS.index("clarinet")] == []
    with pytest.raises(ValueError, match="no tag|do not have"):
        heads.tag_columns(["x"], {"x": {"mtt": ["kazoo"]}}, "penultimate+tags")


def test_held_at_the_mapping_the_prior_ranks_mapped_classes_as_the_mapping_does():
    X, y = _rows()
    model, losses = heads.fit_prior(X, y, LABELS, MAPPING, fixed_mapped=True, epochs=150, lr=0.02)
    assert losses[-1] < losses[0]
    mapped = [j for j, c in enumerate(COLUMNS) if c]
    P = model.predict_proba(X)
    scores = np.stack([X[:, c].max(1) if c else np.zeros(len(X)) for c in COLUMNS], 1)
    # among the mapped classes, the order is the mapping's: no correction, no bias
    assert (P[:, mapped].argmax(1) == scores[:, mapped].argmax(1)).all()
    assert float(model.kappa.detach()) > 0
    # the classes with no tag are learned from the features
    unmapped = np.isin(y, [LABELS.index(c) for c in model.learned])
    assert (P[unmapped].argmax(1) == y[unmapped]).mean() > 0.9
    assert sorted(model.learned) == ["clarinet", "tenor saxophone", "trumpet"]


def test_the_pull_back_keeps_the_correction_small():
    X, y = _rows()
    rng = np.random.default_rng(1)
    y_noisy = np.where(rng.random(len(y)) < 0.3, rng.integers(0, len(LABELS), len(y)), y)
    strong, _ = heads.fit_prior(X, y_noisy, LABELS, MAPPING, penalty=100.0, epochs=150, lr=0.02)
    weak, _ = heads.fit_prior(X, y_noisy, LABELS, MAPPING, penalty=0.0, epochs=150, lr=0.02)
    mapped = [j for j, c in enumerate(COLUMNS) if c]
    norm = lambda m: float((m.correction.weight.detach()[mapped] ** 2).sum())  # noqa: E731
    assert norm(strong) < 0.5 * norm(weak)


def test_prior_saves_and_loads_with_its_kind_temperature_and_untested_classes(tmp_path):
    X, y = _rows(80)
    model, _ = heads.fit_prior(X, y, LABELS, MAPPING, fixed_mapped=True, untested=["tenor saxophone"], epochs=5)
    model.temperature.fill_(0.7)
    model.save_pretrained(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["kind"] == "tag-prior" and config["untested"] == ["tenor saxophone"]
    again = heads.load_head(tmp_path)
    assert isinstance(again, heads.TagPrior) and float(again.temperature) == pytest.approx(0.7)
    np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), atol=1e-6)


def test_temperature_fit_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 4)).astype(np.float32)
    true_t = 2.0
    p = np.exp(logits / true_t)
    p /= p.sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    t = fit_temperature(logits, np.arange(len(y)), y)  # one patch per recording
    assert t == pytest.approx(true_t, rel=0.15)


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    y = np.array([0] * 8 + [1] * 2)
    matched = np.tile([0.8, 0.2], (10, 1))  # says 80 %, right 8 of 10
    assert heads.expected_calibration_error(matched, y) == pytest.approx(0.0, abs=1e-6)
    over = np.tile([0.99, 0.01], (10, 1))
    assert heads.expected_calibration_error(over, y) == pytest.approx(0.19, abs=1e-6)


def test_close_calls_are_uncertain_and_untested_classes_are_called_guesses():
    labels = ["flute", "clarinet", "piano"]
    close = np.array([0.45, 0.40, 0.15])
    clear = np.array([0.9, 0.05, 0.05])
    assert heads.is_uncertain(close) and not heads.is_uncertain(clear)
    assert list(uncertain(np.stack([close, clear]))) == [True, False]
    notes = heads.verdict_notices(labels, close)
    assert len(notes) == 1 and "Uncertain" in notes[0] and "flute (45%)" in notes[0]
    assert heads.verdict_notices(labels, clear) == []

    class Head:
        untested = ["clarinet"]
    notes = heads.verdict_notices(labels, np.array([0.05, 0.9, 0.05]), Head())
    assert len(notes) == 1 and "clarinet" in notes[0] and "guess" in notes[0]


def test_choice_prefers_the_candidate_closest_to_the_mapping_on_ties_and_never_the_bare_mapping():
    def row(acc):
        return {"real": {"passages": {"macro_accuracy": acc, "accuracy": acc}}}
    rows = {"zero-shot tags": row(0.9), "held": row(0.8), "pull-back 10": row(0.8), "free": row(0.7)}
    assert choose(rows) == "held"
    rows["free"] = row(0.85)
    assert choose(rows) == "free"
    rows["free"] = row(0.8)
    rows["pull-back 10"]["sampled_renders"] = {"accuracy": 0.7}  # renders of real samples break a tie
    assert choose(rows) == "pull-back 10"


@pytest.mark.parametrize("task", ["genre", "instruments"])
def test_the_bundled_default_is_the_prior_and_rebuilds_from_its_config(task):
    from core.genre import api as genre_api
    from core.instruments import api as inst_api

    assert genre_api.DEFAULT_MODEL == inst_api.DEFAULT_MODEL == "prior"
    folder = genre_api.BUNDLED_DIR.parent / task / "prior"
    model = heads.load_head(folder)
    assert isinstance(model, heads.TagPrior)
    assert model.labels == list((GENRE if task == "genre" else INSTRUMENTS).labels)
    card = json.loads((folder / "card.json").read_text())
    assert card["metrics"]["real_passages"]["n"] > 0 and "python -m core.classify.prior" in card["command"]
