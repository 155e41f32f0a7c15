"""The Instrument tab's handlers: ranking, plots and CSVs from a bundled model; bad input as one gr.Error."""
import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from core.instruments import api
from tabs import instruments as tab
from tests.conftest import EXAMPLES, last, produced, tone

needs_model = pytest.mark.skipif(not (api.MODEL_DIR / "cnn" / "model.safetensors").exists(),
                                 reason="no bundled instrument model")


@needs_model
def test_classify_returns_ranking_plots_and_timeline_csv():
    note, label, tags, bars, timeline, curves, csv = last(tab.classify(str(EXAMPLES / "instruments" / "violin.flac"),
                                                                       "cnn"))
    assert tags == []
    assert set(label) == set(api.AUDIOSET_MAP) and max(label, key=label.get) == "violin"
    top2 = sorted(label.values())[-2:]
    assert ("Uncertain" in note) == (top2[1] - top2[0] < 0.2)  # a close call says so, a clear one says nothing
    assert all(hasattr(f["value"], "savefig") and f["visible"] for f in (bars, timeline, curves))
    lines = open(csv).read().splitlines()
    assert lines[0].startswith("start_s,end_s,instrument,probability,clarinet")
    assert len(lines) == 1 + 2  # 3 s → 2 windows


@needs_model
def test_backbone_model_names_the_violin_and_shows_tags_without_a_mix_notice():
    note, label, tags, *_ = last(tab.classify(str(EXAMPLES / "instruments" / "violin.flac"), "musicnn"))
    assert max(label, key=label.get) == "violin" and note == ""
    assert len(tags) == 15 and "violin" in [t for _, t, _ in tags[:5]]


@needs_model
def test_a_full_mix_gets_the_notice_and_the_tags():
    note, label, tags, *_ = last(tab.classify(str(EXAMPLES / "genre" / "techno_128bpm.ogg"), "musicnn"))
    assert "full mix" in note and len(tags) == 15


@needs_model
def test_a_long_recording_gets_a_first_look_at_song_times_then_every_window(tmp_path):
    y, sr = sf.read(EXAMPLES / "instruments" / "violin.flac", dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(y, 14)[: 40 * sr], sr)
    first, final = produced(tab.classify(str(long), "musicnn"))
    assert "First look: 6 windows" in first[0] and first[-1] == gr.skip()
    assert "First look" not in final[0] and final[-1].endswith(".csv")
    quick = api.predict_file(str(long), "musicnn", first_look=6)
    assert quick.first_look and len(quick.times) == 6 and quick.times[-1] > 35
    assert quick.duration == pytest.approx(40, abs=0.5)


@needs_model
def test_batch_tab_lists_skipped_files(tmp_path):
    good, bad = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(good, tone(660, 3.0, 16_000), 16_000)
    bad.write_bytes(b"not audio")
    table, csv = last(tab.tag_batch([str(good), str(bad)], "cnn"))
    assert [row[0] for row in table] == ["a.wav"] and open(csv).read().count("\n") == 3  # b.wav kept
    table, csv = last(tab.tag_batch([str(good)], "musicnn"))  # the backbone model adds the tags to the CSV
    header = open(csv).read().splitlines()[0].split(",")
    assert table[0][3] and "MTT:piano" in header and "MSD:rock" in header and "full_mix" in header


@needs_model
def test_every_bundled_model_has_the_papers_report():
    for name in api.BUNDLED:
        rows, counts, percent, note = tab.model_report(name)
        if name in ("prior", "musicnn", "tags"):
            assert ("real dev" in note or "real passages" in note) and "ISC" in note
            assert not rows["visible"] and not counts["visible"] and not percent["visible"]  # no empty frames
        else:
            assert {"violin", "macro avg"} <= {r[0] for r in rows["value"]} and counts["value"] is not None
            assert "macro-F1" in note


def test_bad_input_is_one_gr_error(tmp_path):
    with pytest.raises(gr.Error, match="Upload or record"):
        last(tab.classify(None, "cnn"))
    with pytest.raises(gr.Error, match="Choose an instrument model"):  # an API client sending no model
        last(tab.classify(str(EXAMPLES / "instruments" / "violin.flac"), None))
    with pytest.raises(gr.Error, match="Choose one or more"):
        last(tab.tag_batch([], "cnn"))
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio")
    with pytest.raises(gr.Error, match="No file could be tagged: junk.wav"):
        last(tab.tag_batch([str(junk)], "cnn"))
    with pytest.raises(gr.Error, match="at most 50"):
        last(tab.tag_batch([str(junk)] * 51, "cnn"))
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(16_000 * 3, np.float32), 16_000)
    with pytest.raises(gr.Error, match="(?i)silen|no signal"):
        last(tab.classify(str(silent), "cnn"))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....garbage")
    with pytest.raises(gr.Error):
        last(tab.classify(str(broken), "cnn"))


def test_a_clip_of_exactly_three_seconds_is_not_called_padded():
    import warnings

    violin = EXAMPLES / "instruments" / "violin.flac"
    assert sf.info(violin).duration == pytest.approx(3.0, abs=0.005)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        last(tab.classify(str(violin), "musicnn"))
    assert not [w for w in caught if "padded" in str(w.message) or "shorter" in str(w.message)]
