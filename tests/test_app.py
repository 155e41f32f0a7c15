"""The app shell: every tab builds, the CLI parses, handlers turn bad input into one gr.Error."""
import importlib

import gradio as gr
import pytest

import app
from tabs import TABS, analysis
from tabs.common import user_errors
from tests.conftest import EXAMPLES, last


def test_app_builds_every_tab():
    demo = app.build_app()
    assert isinstance(demo, gr.Blocks)
    titles = [block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    assert titles[0] == "Audio analysis"
    for name in TABS:  # tabs may nest their own sub-tabs; every registered tab is there
        assert importlib.import_module(f"tabs.{name}").TITLE in titles


def test_cli_options():
    args = app.parse_args(["--host", "0.0.0.0", "--port", "9000", "--share", "--device", "cpu"])
    assert (args.host, args.port, args.share, args.device) == ("0.0.0.0", 9000, True, "cpu")


def test_analysis_handler_returns_levels_tempo_key_and_four_plots():
    stats, csv, *figs, bpm, beats_csv, beat_state = last(analysis.run(str(EXAMPLES / "folk_tune_hildebrandslied.mp3")))
    assert dict(map(tuple, stats))["Sample rate"] == "22050 Hz"  # the file's own rate (this example is 22.05 kHz)
    assert "dBTP" in dict(map(tuple, stats))["True peak"] and "LU" in dict(map(tuple, stats))["Loudness range (LRA)"]
    lines = open(csv).read().splitlines()
    assert lines[0].startswith("time_s,beat,zcr,chroma_C") and len(lines[1].split(",")) == 16
    seconds = float(dict(map(tuple, stats))["Duration"].split()[0])
    assert abs((len(lines) - 1) - (1 + seconds * 22_050 / 512)) <= 1  # one row per frame
    assert len(figs) == 4 and all(hasattr(f, "savefig") for f in figs)
    rows = dict(map(tuple, stats))
    assert "BPM" in rows["Tempo"] and rows["Key"].split()[1] in ("major", "minor")
    # ×2 doubles the tempo and the beat grid without analysing again; ÷2 brings it back
    n_beats = len(open(beats_csv).read().splitlines()) - 1
    doubled, fig, doubled_csv, state = analysis.rescale_tempo(beat_state, 2.0)
    assert doubled == pytest.approx(2 * bpm) and len(open(doubled_csv).read().splitlines()) - 1 == 2 * n_beats - 1
    assert analysis.rescale_tempo(state, 0.5)[0] == pytest.approx(bpm)
    # a typed tempo redraws the grid from the same first beat, every 60/BPM s
    typed, _, typed_csv, typed_state = analysis.type_tempo(beat_state, 100)
    times = [float(r.split(",")[1]) for r in open(typed_csv).read().splitlines()[1:]]
    assert typed == 100 and times[0] == pytest.approx(beat_state["tempo"].first_beat, abs=1e-4)
    assert times[1] - times[0] == pytest.approx(0.6, abs=1e-4)
    with pytest.raises(gr.Error, match="tempo"):
        analysis.type_tempo(beat_state, 5000)


@pytest.mark.parametrize("bad", [None, "/nonexistent/file.wav"])
def test_analysis_bad_input_is_a_gr_error(bad):
    with pytest.raises(gr.Error):
        last(analysis.run(bad))


def test_user_errors_hides_tracebacks():
    @user_errors
    def boom():
        raise KeyError("internal detail")

    with pytest.raises(gr.Error, match="Something went wrong \\(KeyError\\)"):
        boom()
