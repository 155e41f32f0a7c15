"""The running app through gradio_client, as an API client (or a flood of them) uses it.

Every endpoint answers bad values (None, NaN, text, out of range, a server path) with one clear message;
one session cannot queue two long jobs; a cancelled long job frees the session; audio too short to judge
is refused.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import EXAMPLES

gradio_client = pytest.importorskip("gradio_client")
pytestmark = pytest.mark.e2e

SONG = EXAMPLES / "folk_tune_hildebrandslied.mp3"
DRY, WET = EXAMPLES / "effects" / "effects_capture_dry.flac", EXAMPLES / "effects" / "effects_capture_wet.flac"
#: What Gradio says when a handler's error did not reach the client: it must never be seen.
OPAQUE = ("upstream Gradio app has raised an exception", "Something went wrong", "Traceback")


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def _message(client, api_name, *args) -> str:
    """The error an endpoint answers with (the test fails if it answers with a result)."""
    try:
        client.predict(*args, api_name=api_name)
    except Exception as err:  # AppError for handler errors, ValidationError for validators
        return str(err)
    pytest.fail(f"{api_name}{args!r} was accepted")


def _file(path):
    return gradio_client.handle_file(str(path))


BAD_CALLS = [
    ("/analyse", lambda: [None], "Upload or record"),
    ("/analyse", lambda: ["/etc/passwd"], "handle_file"),
    ("/genre", lambda: [_file(SONG), "musicnn", None], "aggregation"),
    ("/genre", lambda: [_file(SONG), "nope", "mean"], "not in the list of choices"),
    ("/classify_instrument", lambda: [_file(SONG), None], "Choose an instrument model"),
    ("/tag_instruments", lambda: [[], "musicnn"], "Choose one or more"),
    ("/search_play_query", lambda: ["NaN", 1.0], "Query start"),
    ("/search_load", lambda: ["/etc/passwd"], "handle_file"),
    ("/search_start", lambda: [0, 1, "sample", "mel", 5, None, 0], "Load a track first"),
    ("/search_no", lambda: [None], "Load a track first"),
    ("/search_stop", lambda: [], "Load a track first"),
    ("/search_undo", lambda: [], "Load a track first"),
    ("/search_start", lambda: ["NaN", 1, "sample", "mel", 5, None, 0], "Query start"),
    ("/search_start", lambda: [0, 1, "sample", "mel", "NaN", None, 0], "Patience"),
    ("/search_start", lambda: [0, 1, "sample", "mel", 5, 1e9, 0], "Tempo"),
    ("/search_start", lambda: [0, 1, "sample", "mel", 5, None, 1e9], "Beat 0"),
    ("/search_yes", lambda: ["NaN"], "Proposal shown"),
    ("/search_yes", lambda: [3.0], "Load a track first"),
    ("/effects_apply", lambda: [_file(SONG), "reverb", "NaN", 0.5, 0, 0], "Room size"),
    ("/effects_apply", lambda: [_file(SONG), "reverb", 0.5, None, 0, 0], "Damping"),
    ("/effects_capture", lambda: [_file(DRY), _file(WET), "lstm", "NaN"], "Training steps"),
    ("/effects_capture", lambda: [_file(DRY), _file(WET), "lstm", 1e9], "Training steps"),
    ("/generate", lambda: ["lstm", 30, 1.0, 1e30, 120, "Flute", "FluidR3_GM", None], "Seed"),
    ("/generate", lambda: ["lstm", "NaN", 1.0, 0, 120, "Flute", "FluidR3_GM", None], "Length"),
    ("/generate", lambda: ["lstm", 30, None, 0, 120, "Flute", "FluidR3_GM", None], "Temperature"),
    ("/generate", lambda: ["lstm", 30, 1.0, "NaN", 120, "Flute", "FluidR3_GM", None], "Seed"),
    ("/generate", lambda: ["lstm", 30, 1.0, 0, 120, 999, "FluidR3_GM", None], "not in the list of choices"),
]


@pytest.mark.parametrize("api_name,args,expected", BAD_CALLS, ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(BAD_CALLS)])
def test_a_bad_value_gets_one_clear_message_through_the_api(client, api_name, args, expected):
    message = _message(client, api_name, *args())
    assert expected in message and not any(o in message for o in OPAQUE), message


def test_generate_takes_the_instrument_by_its_documented_name(client):
    audio, midi, *_ = client.predict("random", 3, 1.0, 7, 120, "Violin", "FluidR3_GM", None, api_name="/generate")
    assert sf.info(audio).duration >= 2.9 and open(midi, "rb").read(4) == b"MThd"


@pytest.mark.parametrize("api_name,extra", [("/genre", ["musicnn", "mean"]), ("/classify_instrument", ["musicnn"])])
def test_audio_too_short_to_judge_is_refused_not_labelled(client, tmp_path, api_name, extra):
    one_sample = tmp_path / "one_sample.wav"
    sf.write(one_sample, np.array([0.5], np.float32), 22_050)
    message = _message(client, api_name, _file(one_sample), *extra)
    assert "at least 1 s is needed" in message and not any(o in message for o in OPAQUE), message


def _wait_until_running(job, timeout=60.0):
    """Until the job runs, or has run (a short one may finish between two looks)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = job.status()
        if status.code.name in ("PROCESSING", "ITERATING", "PROGRESS") or (
                status.code.name == "FINISHED" and status.success):
            return
        time.sleep(0.2)
    pytest.fail(f"the job never started: {job.status()}")


def test_one_session_cannot_queue_a_second_long_job_but_can_still_do_short_work(app_url):
    client = gradio_client.Client(app_url, verbose=False)
    first = client.submit(_file(DRY), _file(WET), "lstm", 3000, api_name="/effects_capture")
    _wait_until_running(first)
    message = _message(client, "/effects_capture", _file(DRY), _file(WET), "lstm", 100)
    assert "already have a long job" in message
    assert "already have a long job" in _message(client, "/tag_instruments", [_file(SONG)], "cnn")
    # a short request from the same session is answered meanwhile
    stats, *_ = client.predict(_file(SONG), api_name="/analyse")
    assert stats["data"]
    # a second user is not held back by the first one's long job
    other = gradio_client.Client(app_url, verbose=False)
    other_job = other.submit(_file(DRY), _file(WET), "fir", 100, api_name="/effects_capture")
    _wait_until_running(other_job)
    other_job.cancel()
    # once the long job is cancelled, the session may start another
    first.cancel()
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            client.predict(_file(DRY), _file(WET), "fir", 100, api_name="/effects_capture")
            break
        except Exception as err:
            assert "already have a long job" in str(err), err
            time.sleep(0.5)
    else:
        pytest.fail("the session stayed blocked after its long job was cancelled")


# --- the JSON endpoints for scripts ---------------------------------------------------------------

GROOVE = EXAMPLES / "house_groove_124bpm.ogg"


def test_api_analysis_returns_levels_tempo_and_key_as_data(client):
    d = client.predict(_file(GROOVE), api_name="/api_analysis")
    assert d["levels"]["sample_rate"] == 22_050 and d["levels"]["integrated_lufs"] < 0
    assert abs(d["tempo"]["bpm"] - 124) < 1 and len(d["tempo"]["beats_s"]) > 20
    assert d["key"]["mode"] in ("major", "minor")


def test_api_genre_returns_probabilities_excerpts_and_tags(client):
    d = client.predict(_file(GROOVE), "musicnn", "mean", api_name="/api_genre")
    assert d["genre"] in d["probabilities"] and abs(sum(d["probabilities"].values()) - 1) < 0.01
    assert len(d["excerpts"]) >= 5 and {"start_s", d["genre"]} <= set(d["excerpts"][0])
    assert d["tags"]["top"][0]["tagger"] in ("MTT", "MSD") and len(d["tags"]["patch_starts_s"]) == len(d["excerpts"])


def test_api_instruments_and_tags_return_data(client):
    d = client.predict(_file(EXAMPLES / "instruments" / "violin.flac"), "musicnn", api_name="/api_instruments")
    assert d["ranking"][0]["instrument"] == d["instrument"] and len(d["windows"]) >= 1 and "full_mix" in d
    t = client.predict(_file(GROOVE), api_name="/api_tags")
    assert len(t["top"]) == 20 and len(t["mtt"]) == 50 and len(t["msd"]) == 50


def test_api_effects_process_returns_files_and_metrics(client):
    d = client.predict(_file(EXAMPLES / "effects" / "effects_guitar_di.flac"), "reverb", {"room_size": 0.8},
                       api_name="/api_effects_process")
    assert d["metrics"]["ESR model vs effect"] < d["metrics"]["ESR clean vs effect"]
    assert d["knobs"]["room_size"] == 0.8 and d["knobs"]["damping"] == 0.5
    assert sf.info(d["model_audio"]).samplerate == 44_100 and sf.info(d["effect_audio"]).duration > 1


def test_api_generate_follows_style_meter_and_key(client):
    d = client.predict("lstm", 8, 1.0, 2, 120, "Fiddle", None, None, "melody", "D", "irish", "6/8",
                       api_name="/api_generate")
    assert d["notes"] and not [n for n in d["notices"] if "style" in n]
    assert "it knows: american, essen, irish" in _message(client, "/api_generate", "lstm", 8, 1.0, 2, 120, "Fiddle",
                                                          None, None, "melody", None, "jazz", None)


def test_api_generate_returns_midi_audio_and_notes(client):
    d = client.predict("markov", 6, 1.0, 3, 120, "Violin", None, api_name="/api_generate")
    assert open(d["midi"], "rb").read(4) == b"MThd" and sf.info(d["audio"]).duration >= 5.9
    assert d["seed"] == 3 and len(d["notes"]) >= 4 and all(n["end_s"] > n["start_s"] for n in d["notes"])


def test_api_search_runs_a_whole_search_in_the_clients_session(app_url):
    c = gradio_client.Client(app_url, verbose=False)
    assert "Start a search first" in _message(c, "/api_search_answer", 1.0, True)
    d = c.predict(_file(EXAMPLES / "search" / "drum_and_bass_loops_and_samples.ogg"), 5.5, 5.5, "loop", "mel", 5, None,
                  api_name="/api_search_start")
    assert d["query"] == {"start_s": 5.5, "duration_s": 5.5} and abs(d["tempo_bpm"] - 174.45) < 1
    first = d["proposal"]["start_s"]
    assert sf.info(d["proposal"]["audio"]).duration == pytest.approx(5.5, abs=0.05)
    assert "not the open proposal" in _message(c, "/api_search_answer", first + 1.0, True)
    d = c.predict(first, True, api_name="/api_search_answer")
    assert d["found"] == 1 and first in [o["start_s"] for o in d["occurrences"]] and d["proposal"]["start_s"] != first
    d = c.predict(api_name="/api_search_undo")
    assert d["found"] == 0 and d["proposal"]["start_s"] == first
    d = c.predict(87.0, api_name="/api_search_tempo")
    assert d["tempo_bpm"] == 87.0 and d["occurrences"][0]["start_beat"] is not None
    d = c.predict(api_name="/api_search_stop")
    assert d["ended"] and d["proposal"] is None
    other = gradio_client.Client(app_url, verbose=False)  # another client's session holds no search
    assert "Start a search first" in _message(other, "/api_search_stop")


def test_api_transcribe_gives_a_primer_that_api_generate_continues(client):
    t = client.predict(_file(EXAMPLES / "generation" / "primer_flute_melody.ogg"), 100, api_name="/api_transcribe")
    assert len(t["melody"]) >= 8 and open(t["midi"], "rb").read(4) == b"MThd"
    d = client.predict("markov", 6, 1.0, 3, 100, "Violin", None, _file(t["midi"]), "folk", api_name="/api_generate")
    # the primer opens the piece; its key, found from its notes with a confidence, is named when it is moved
    primer = [n["pitch"] for n in t["melody"]]
    melody = [n["pitch"] for n in d["notes"] if n["track"] == "melody"]
    assert melody[:len(primer)] == primer
    assert any("The primer is in " in n for n in d["notices"])
    assert {n["track"] for n in d["notes"]} == {"melody", "chords", "bass", "drums"}


def test_api_endpoints_refuse_bad_values_with_the_same_messages(client):
    assert "Seed" in _message(client, "/api_generate", "markov", 6, 1.0, 1e30, 120, "Violin", None)
    assert "Unknown effect" in _message(client, "/api_effects_process", _file(SONG), "flanger", None)
    assert "no knob 'drive_db'" in _message(client, "/api_effects_process", _file(SONG), "reverb", {"drive_db": 3})
    assert "at least 1 s is needed" in _message(client, "/api_genre", _file(_one_sample()), "musicnn", "mean")


def _one_sample():
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "one.wav"
    sf.write(path, np.array([0.5], np.float32), 22_050)
    return path
