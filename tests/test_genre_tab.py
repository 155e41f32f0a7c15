"""The Genre tab's handlers: a bundled model on an example, and bad input as one gr.Error."""
import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from core.genre import bundled_models
from tabs import genre as tab
from tests.conftest import EXAMPLES

needs_model = pytest.mark.skipif(not bundled_models(), reason="no bundled genre model")


@needs_model
def test_handler_returns_summary_plots_and_csv():
    clip = sorted((EXAMPLES / "genre").glob("house_*.ogg"))[0]
    summary, bars, strip, mel, csv = tab.run(str(clip), bundled_models()[0], "mean")
    assert "%" in summary and all(hasattr(f, "savefig") for f in (bars, strip, mel))
    lines = open(csv).read().splitlines()
    assert len(lines) == 1 + 3 + 1  # header, three 3 s excerpts of a 9 s clip, whole-song row


@needs_model
def test_every_bundled_model_has_a_report():
    for name in bundled_models():
        text, curves, confusion = tab.model_report(name)
        assert "| test |" in text and curves is not None and confusion is not None


def test_bad_input_is_one_gr_error(tmp_path):
    with pytest.raises(gr.Error, match="Upload or record"):
        tab.run(None, "cnn", "mean")
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(22_050 * 4, np.float32), 22_050)
    if bundled_models():
        with pytest.raises(gr.Error, match="No signal"):
            tab.run(str(silent), bundled_models()[0], "mean")
    with pytest.raises(gr.Error, match="Unknown genre model"):
        tab.run(str(silent), "no-such-model", "mean")
