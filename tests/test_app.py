"""The app shell: every tab builds, the CLI parses, handlers turn bad input into one gr.Error."""
import importlib

import gradio as gr
import pytest

import app
from server.jobs import user_errors
from tabs import TABS, analysis
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
    stats, csv, *figs, bpm, beats_csv, chord_files, beat_state = last(
        analysis.run(str(EXAMPLES / "folk_tune_hildebrandslied.mp3")))
    assert dict(map(tuple, stats))["Sample rate"] == "22050 Hz"  # the file's own rate (this example is 22.05 kHz)
    assert "dBTP" in dict(map(tuple, stats))["True peak"] and "LU" in dict(map(tuple, stats))["Loudness range (LRA)"]
    lines = open(csv).read().splitlines()
    assert lines[0].startswith("time_s,beat,zcr,chroma_C") and len(lines[1].split(",")) == 16
    seconds = float(dict(map(tuple, stats))["Duration"].split()[0])
    assert abs((len(lines) - 1) - (1 + seconds * 22_050 / 512)) <= 1  # one row per frame
    assert len(figs) == 4 and all(hasattr(f["value"], "savefig") and f["visible"] for f in figs)
    rows = dict(map(tuple, stats))
    assert "BPM" in rows["Tempo"] and "BeatNet" in rows["Tempo"] and rows["Key"].split()[1] in ("major", "minor")
    assert "sure" in rows["Key"] and "next" in rows["Key"]
    assert rows["Chords"] == "no chords heard" and chord_files is None  # a tune alone: no harmony to name
    # the beat CSV marks the downbeats (bars), which the waveform draws too
    beat_rows = [r.split(",") for r in open(beats_csv).read().splitlines()]
    assert beat_rows[0] == ["beat", "time_s", "downbeat"] and any(r[2] == "1" for r in beat_rows[1:])
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


def test_analysis_names_a_chorales_chords_and_hands_them_back_as_csv_and_midi():
    import pretty_midi

    stats, *_, chord_files, _ = last(analysis.run(str(EXAMPLES / "bach_chorale_bwv66_6.flac")))
    rows = dict(map(tuple, stats))
    assert rows["Key"].startswith("F# minor") and "chroma+chords" in rows["Key"]  # BWV 66.6 is in F# minor
    assert "→" in rows["Chords"] and "(crema)" in rows["Chords"]
    chord_csv, chord_midi = sorted(chord_files, key=lambda p: p.endswith(".mid"))
    chord_rows = open(chord_csv).read().splitlines()
    assert chord_rows[0] == "start,end,label,confidence" and len(chord_rows) > 4
    assert len(pretty_midi.PrettyMIDI(chord_midi).instruments[0].notes) >= 9  # three or more block chords


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


DEVELOPER_WORDS = ("python -m", "MUSIC_STUDIO_", "sha256", "HF_HUB", "torchrun", ".venv")


def _visible_markdown(demo) -> list[tuple[str, str]]:
    """(elem id or class, text) of every Markdown on the page, without what sits in a <details> fold."""
    import re

    out = []
    for block in demo.blocks.values():
        if isinstance(block, gr.Markdown) and isinstance(block.value, str):
            text = re.sub(r"<details>.*?</details>", "", block.value, flags=re.S)
            out.append((block.elem_id or ",".join(block.elem_classes or []), text))
    return out


def test_the_page_speaks_to_users_not_developers():
    demo = app.build_app()
    for where, text in _visible_markdown(demo):
        for word in DEVELOPER_WORDS:
            assert word not in text, f"{word!r} on the page ({where}): {text[:200]}"
    intros = [text for where, text in _visible_markdown(demo) if where == "tab-intro"]
    assert len(intros) == len(TABS)  # every tab opens with one
    for text in intros:  # what the tab does and what to do: a sentence or two
        assert len([s for s in text.replace("e.g.", "eg").split(". ") if s.strip()]) <= 2, text


def test_the_api_page_describes_endpoints_for_their_users():
    """What /?view=api shows of each endpoint: its own description, never a handler's internal docstring."""
    demo = app.build_app()
    for fn in demo.fns.values():
        if not fn.api_name or getattr(fn, "api_visibility", "public") != "public":
            continue
        text = fn.api_description if isinstance(fn.api_description, str) else (fn.fn.__doc__ or "") if fn.fn else ""
        for word in (":func:", ":class:", "generator", "Gradio", "tabs.", "handler"):
            assert word not in text, f"/{fn.api_name}: {word!r} in {text[:160]!r}"


def test_no_result_frame_is_shown_empty_before_its_first_result():
    """A plot or picture without a value starts hidden and appears with its first figure (an empty page at
    phone width was mostly empty frames)."""
    demo = app.build_app()
    for block in demo.blocks.values():
        if isinstance(block, (gr.Plot, gr.Image)) and block.value is None and not block.interactive:
            assert not block.visible, f"{block.elem_id or block.label} is an empty frame on a fresh page"


def test_the_api_page_names_each_value_of_a_json_endpoint_by_its_parameter():
    info = app.build_app().get_api_info()["named_endpoints"]
    for name, endpoint in info.items():
        if name.startswith("/api_"):
            assert [p["label"] for p in endpoint["parameters"]] == [p["parameter_name"] for p in endpoint["parameters"]]
            assert all(r["label"] == "result" for r in endpoint["returns"]), name
            assert all(r["python_type"]["type"].startswith("dict") for r in endpoint["returns"]), name  # not "Any"


def test_analysis_as_data_holds_beats_bars_chords_and_the_keys_confidence():
    import json

    from core import analysis as core_analysis

    d = core_analysis.analyse_file(str(EXAMPLES / "bach_chorale_bwv66_6.flac")).to_dict()
    json.dumps(d)  # what /api_analysis returns
    t = d["tempo"]
    assert t["source"] == "BeatNet" and t["beats_per_bar"] in (3, 4)
    assert t["downbeats_s"] and set(t["downbeats_s"]) <= set(t["beats_s"])  # every bar starts on a beat
    assert 0 < d["key"]["confidence"] <= 1 and d["key"]["runner_up"] != d["key"]["name"]
    chords = d["chords"]
    assert chords[0]["start_s"] == 0 and all(a["end_s"] == b["start_s"] for a, b in zip(chords, chords[1:]))
