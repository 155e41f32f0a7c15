"""The zero-shot mapping of the taggers' tags, served as a model ("tags") in both tabs and the API."""
import json

import numpy as np
import pytest

from core.backbones import musicnn
from core.classify.heads import TagMapping, is_mapping
from core.classify.tasks import GENRE, INSTRUMENTS, zero_shot_scores
from core.training import MODELS_DIR
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("task", [GENRE, INSTRUMENTS], ids=lambda t: t.name)
def test_the_mapping_model_scores_exactly_the_tasks_zero_shot_baseline(task):
    folder = MODELS_DIR / task.name / "tags"
    assert is_mapping(folder) and json.loads((folder / "config.json").read_text())["labels"] == list(task.labels)
    m = TagMapping.from_pretrained(folder)
    mtt, msd = musicnn.load("mtt").labels, musicnn.load("msd").labels
    rng = np.random.default_rng(0)
    tags = rng.random((5, len(mtt) + len(msd))).astype(np.float32)
    expected = zero_shot_scores(task, tags[:, :len(mtt)], tags[:, len(mtt):], mtt, msd)
    assert np.allclose(m.scores(tags), expected)
    p = m.predict_proba(tags)
    assert np.allclose(p.sum(1), 1) and (p[:, [task.labels.index(c) for c in m.unmapped]] == 0).all()


def test_instrument_classes_without_a_tag_are_named_as_unmapped():
    m = TagMapping.from_pretrained(MODELS_DIR / "instruments" / "tags")
    assert set(m.unmapped) == {"clarinet", "tenor saxophone", "trumpet"}


def test_a_mapping_naming_a_tag_the_taggers_lack_is_refused():
    with pytest.raises(ValueError, match="mtt:kazoo"):
        TagMapping(["x"], {"x": {"mtt": ["kazoo"]}})


def test_tags_is_selectable_for_genre_and_instruments_and_names_a_violin():
    from core.genre import api as genre
    from core.instruments import api as instruments

    assert "tags" in genre.bundled_models() and "tags" in instruments.BUNDLED
    result = instruments.predict_file(str(EXAMPLES / "instruments" / "violin.flac"), model="tags")
    assert result.to_dict()["instrument"] == "violin"
    assert any("cannot name clarinet, tenor saxophone, trumpet" in n for n in result.notices)  # said, not scored 0
    song = genre.predict_file(str(EXAMPLES / "genre" / "techno_128bpm.ogg"), model="tags")
    assert song.to_dict()["genre"] in ("techno", "house")
