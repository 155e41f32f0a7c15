"""The Genre tab's handlers: a bundled model on an example, and bad input as one gr.Error."""
import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from core.genre import bundled_models
from tabs import genre as tab
from tests.conftest import EXAMPLES, last, produced

needs_model = pytest.mark.skipif(not bundled_models(), reason="no bundled genre model")


@needs_model
@pytest.mark.parametrize("model", ["musicnn", "cnn"])
def test_handler_returns_summary_plots_tags_and_csvs_for_backbone_and_paper_models(model):
    clip = sorted((EXAMPLES / "genre").glob("house_*.ogg"))[0]
    summary, bars, strip, tags, taggram, mel, csv, tags_csv = last(tab.run(str(clip), model, "mean"))
    assert "%" in summary and all(hasattr(f["value"], "savefig") and f["visible"] for f in (bars, strip, taggram, mel))
    assert len(tags) == 15 and {row[0] for row in tags} <= {"MTT", "MSD"} and tags[0][2] >= tags[-1][2]
    lines = open(csv).read().splitlines()
    assert len(lines) == 1 + 3 + 1  # header, three 3 s excerpts of a 9 s clip, whole-song row
    assert len(open(tags_csv).read().splitlines()) == 1 + 3  # one row per 3 s patch


@needs_model
def test_a_long_song_gets_a_first_look_then_every_excerpt(tmp_path):
    y, sr = sf.read(EXAMPLES / "house_groove_124bpm.ogg", dtype="float32")
    song = tmp_path / "long.wav"
    sf.write(song, np.tile(y, 4), sr)  # 66 s
    first, final = produced(tab.run(str(song), "musicnn", "mean"))
    assert "(first look)" in first[0] and "6 excerpt(s)" in first[0] and all(v == gr.skip() for v in first[3:])
    assert "first look" not in final[0] and len(final[3]) == 15
    assert len(open(final[6]).read().splitlines()) - 2 >= 20  # every excerpt of the 66 s (less trimmed silence)


@needs_model
def test_every_bundled_model_has_a_report():
    for name in bundled_models():
        text, curves, confusion = tab.model_report(name)
        if name in ("prior", "musicnn", "tags"):  # real recordings first, and where the backbone comes from
            assert ("real dev" in text or "real passages" in text) and "ISC" in text and "sha256" in text
            assert not curves["visible"] and not confusion["visible"]  # no empty frames for a model without them
        else:
            assert "| test |" in text and curves["value"] is not None and confusion["value"] is not None
            assert "On generated music" in text  # a figure names its data
            if "real dev" in text:  # real recordings first
                assert text.index("real dev") < text.index("On generated music")


def test_bad_input_is_one_gr_error(tmp_path):
    with pytest.raises(gr.Error, match="Upload or record"):
        last(tab.run(None, "cnn", "mean"))
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(22_050 * 4, np.float32), 22_050)
    if bundled_models():
        with pytest.raises(gr.Error, match="No signal"):
            last(tab.run(str(silent), bundled_models()[0], "mean"))
        one_sample = tmp_path / "one.wav"
        sf.write(one_sample, np.array([0.5], np.float32), 22_050)
        with pytest.raises(gr.Error, match="at least 1 s"):
            last(tab.run(str(one_sample), "musicnn", "mean"))
    with pytest.raises(gr.Error, match="Unknown genre model"):
        last(tab.run(str(silent), "no-such-model", "mean"))
