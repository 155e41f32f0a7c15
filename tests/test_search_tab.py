"""The search tab's handlers: a whole yes/no search on the bundled example, exports, and bad input as one gr.Error."""
import csv
import json

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from core.search.evaluate import simulated_user
from tabs import search as tab
from tests.conftest import last


@pytest.fixture(scope="module")
def truth():
    return json.loads(tab.EXAMPLE.with_suffix(".json").read_text())


def test_a_whole_search_through_the_handlers(truth):
    state, image, t0_update, d_update, note = last(tab.load_track(str(tab.EXAMPLE), None))
    assert image["value"].ndim == 3 and image["visible"]
    assert t0_update["maximum"] == pytest.approx(truth["duration"], abs=0.05)
    # a click in the middle of the picture sets t0 to the middle of the track (the axis spans most of the width)
    ov = state.overview
    assert ov.time_at((ov.x0 + ov.x1) / 2 * image["value"].shape[1]) == pytest.approx(truth["duration"] / 2, abs=0.1)
    loop = next(t for t in truth["targets"] if t["name"] == "loop2")
    t0, d = round(loop["starts"][0], 1), round(loop["duration"], 1)
    assert sf.info(tab.play_query(state, t0, d)).duration == pytest.approx(d, abs=0.01)
    out = last(tab.start(state, t0, d, "loop", "mfcc", 3))
    user = simulated_user(loop["starts"][1:], d)
    steps = 0
    while out[3] is not None:  # the proposal on screen
        assert out[2] is not None and "Proposal at" in out[1]
        out = tab.answer(out[0], out[3], user(out[3]))
        steps += 1
        assert steps < 40
    assert "Search ended" in out[1] and len(user.found) == len(loop["starts"]) - 1
    rows = out[6]
    assert len(rows) == len(loop["starts"]) and rows[0][4] in ("query", "found")
    csv_path, json_path = out[7]
    assert len(list(csv.DictReader(open(csv_path)))) == len(loop["starts"])
    doc = json.loads(open(json_path).read())
    assert doc["ended"] and doc["features"] == "mfcc" and len(doc["rejected_s"]) == 3
    # answers after the end change nothing; undo reopens the last proposal
    again = tab.answer(out[0], 12.0, True)
    assert again[6] == rows
    reopened = tab.undo(out[0])
    assert reopened[3] is not None and "Proposal at" in reopened[1]


def test_a_stale_click_answers_nothing():
    state = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    out = last(tab.start(state, 3.4, 0.8, "sample", "mfcc", 5))
    shown = out[3]
    out = tab.answer(out[0], shown, True)
    before = len(out[6])
    out = tab.answer(out[0], shown, True)  # the same proposal again: a double click
    assert len(out[6]) == before


def test_two_browser_sessions_do_not_share_a_search():
    a = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    b = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    out_a = last(tab.start(a, 3.4, 0.8, "sample", "mfcc", 5))
    last(tab.start(b, 27.5, 2.8, "loop", "mfcc", 5))
    tab.answer(out_a[0], out_a[3], False)
    assert a.session is not b.session and b.session.negatives == []


def test_bad_input_is_one_gr_error(tmp_path):
    with pytest.raises(gr.Error, match="Load a track first"):
        last(tab.start(None, 1.0, 1.0, "sample", "mfcc", 5))
    with pytest.raises(gr.Error, match="Start a search first"):
        tab.answer(last(tab.load_track(str(tab.EXAMPLE), None))[0], 1.0, True)
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(22_050 * 3, np.float32), 22_050)
    with pytest.raises(gr.Error, match="silent"):
        last(tab.load_track(str(silent), None))
    state = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    with pytest.raises(gr.Error, match="outside the track"):
        last(tab.start(state, 44.9, 1.0, "sample", "mfcc", 5))
    with pytest.raises(gr.Error, match="at least 0.1"):
        tab.play_query(state, 1.0, 0.01)
    with pytest.raises(gr.Error, match="third"):
        last(tab.start(state, 1.0, 20.0, "loop", "mfcc", 5))
    with pytest.raises(gr.Error, match="Patience"):
        last(tab.start(state, 1.0, 1.0, "sample", "mfcc", 0))


def test_a_tempo_the_user_knows_sets_the_beats():
    state = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    # the example's tempo; loop2 starts on bar 21
    out = last(tab.start(state, 27.5, 2.8, "loop", "mfcc", 5, 174.454, 0.0))
    start_beat = out[6][0][2]
    assert start_beat == pytest.approx(79.96, abs=0.01) and "174.5 BPM (yours)" in out[1]
    with pytest.raises(gr.Error, match="tempo .* between 20 and 400; got 1000"):
        last(tab.start(state, 27.5, 2.8, "loop", "mfcc", 5, 1000))


def test_a_file_longer_than_the_cap_is_searched_in_part_and_the_user_told(monkeypatch):
    monkeypatch.setattr(tab, "MAX_SECONDS", 20.0)
    state, _, t0_update, _, note = last(tab.load_track(str(tab.EXAMPLE), None))
    assert t0_update["maximum"] == pytest.approx(20.0, abs=0.05) and "only the first" in note
    with pytest.raises(gr.Error, match="outside the track"):
        last(tab.start(state, 30.0, 1.0, "sample", "mfcc", 5))


def test_the_example_tempo_is_detected_right_and_x2_halve_move_the_beats():
    state = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    out = last(tab.start(state, 27.5, 2.8, "loop", "mfcc", 5))
    assert "174." in out[1] and "detected" in out[1]  # the example is 174.45 BPM; librosa alone said 117.5
    beat = out[6][0][2]
    bpm, *halved = tab.scale_tempo(out[0], 0.5)
    assert 85 < bpm < 89 and halved[6][0][2] == pytest.approx(beat / 2, abs=0.02)
    bpm, *_ = tab.scale_tempo(out[0], 2.0)
    assert 172 < bpm < 177


def test_answer_buttons_are_live_only_when_they_do_something():
    state = last(tab.load_track(str(tab.EXAMPLE), None))[0]
    out = last(tab.start(state, 3.4, 0.8, "sample", "mfcc", 5))
    yes, no, undo, stop = (u["interactive"] for u in out[-4:])
    assert yes and no and stop and not undo  # a proposal to answer, nothing to take back yet
    out = tab.answer(out[0], out[3], False)
    assert out[-2]["interactive"]  # now an answer can be undone
    out = tab.stop(out[0])
    yes, no, undo, stop = (u["interactive"] for u in out[-4:])
    assert not yes and not no and not stop and undo  # after Stop: only Undo (which reopens the search) does anything
