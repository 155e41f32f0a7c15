"""A full mix: which instruments are heard in it (multi-label from the mapped tags), with a threshold chosen on
mixes whose instruments are known."""
import json

import numpy as np

from core.backbones import musicnn
from core.backbones.tagging import TagPrediction
from core.classify import mixes
from core.instruments import api


def _tags(**mtt) -> TagPrediction:
    a = np.zeros((3, 50), np.float32)
    for tag, v in mtt.items():
        a[:, musicnn.MTT_LABELS.index(tag.replace("_", " "))] = v
    return TagPrediction(np.arange(3) * 3.0, musicnn.MTT_LABELS, musicnn.MSD_LABELS, a, np.zeros((3, 50), np.float32),
                         9.0)


def test_heard_in_mix_names_the_instruments_whose_tags_reach_the_threshold_strongest_first():
    heard = api.heard_in_mix(_tags(piano=0.6, violin=0.3, flute=0.05), threshold=0.2)
    assert [c for c, _ in heard] == ["piano", "violin"]
    assert heard[0][1] == np.float32(0.6)
    assert api.heard_in_mix(_tags(piano=0.1), threshold=0.2) == []


def test_mix_labels_leave_out_the_classes_no_tag_names():
    labels, mapped = api.mix_labels()
    assert {"clarinet", "trumpet", "tenor saxophone"} & set(mapped) == set()
    assert {"piano", "violin", "flute"} <= set(mapped) and set(mapped) <= set(labels)


def test_the_mix_threshold_maximises_f1_on_known_mixes():
    labels, mapped = ["piano", "violin", "clarinet"], ["piano", "violin"]
    S = np.array([[0.8, 0.1, 0], [0.1, 0.5, 0], [0.35, 0.4, 0], [0.05, 0.05, 0]])
    truth = [{"piano"}, {"violin"}, {"piano", "violin"}, set()]
    picked = mixes.choose_heard(S, truth, labels, mapped)
    assert 0.1 < picked["threshold"] <= 0.35 and picked["micro_f1"] == 1.0
    assert picked["per_class"]["piano"] == {"n_in": 2, "precision": 1.0, "recall": 1.0}


def test_the_shipped_threshold_is_the_one_chosen_on_the_mixes():
    chosen = json.loads(mixes.HEARD_FIGURE.read_text())
    assert api.HEARD_THRESHOLD == chosen["threshold"]
    assert chosen["n_mixes"] > 0 and "rendered mixes" in chosen["data"]


def test_a_full_mix_result_says_what_is_heard_in_it():
    r = api.InstrumentResult(["piano", "violin"], np.array([0.6, 0.4]), np.array([1.5]), np.array([[0.6, 0.4]]),
                             3.0, 3.0, False, heard=[("piano", 0.5)])
    assert r.to_dict()["heard_in_mix"] == [{"instrument": "piano", "score": 0.5}]
