"""Issue 32, item 6: every input the studio cannot take whole gets one clear message or notice.

Cut input is announced in the result (what /api_analysis, /api_tags, /api_transcribe return); surround files are
refused by every loader alike; a 1-sample file is refused by analysis and effects; "Tag a folder"'s CSV keeps a row
for each skipped file with the reason. Audio is made here, no downloaded data.
"""
import csv

import numpy as np
import pytest
import soundfile as sf

from core import analysis
from core.audio import MAX_CHANNELS, AudioError, load_audio, read_excerpts
from core.backbones import tagging
from core.effects import api as effects
from core.generation import transcribe
from tests.conftest import last, tone


def _write(path, y, sr):
    sf.write(path, y, sr)
    return str(path)


# ------------------------------------------------------------------------------------------------ cut input
CUT = {  # capability -> (sample rate of the test file, its result as the API returns it, with a limit of 1 s)
    "analysis": (22_050, lambda p: analysis.analyse_file(p, max_seconds=1.0).to_dict()),
    "tags": (16_000, lambda p: tagging.tag_file(p, max_seconds=3.0).to_dict()),
    "transcribe": (22_050, lambda p: transcribe.transcribe(p, max_seconds=1.0).to_dict()),
}


@pytest.mark.parametrize("capability", CUT)
def test_input_cut_to_the_limit_is_announced_in_the_result(tmp_path, capability):
    sr, run = CUT[capability]
    limit = 3 if capability == "tags" else 1  # the taggers need one 3 s patch
    long = _write(tmp_path / "long.wav", tone(440, limit + 2.0, sr), sr)
    notices = run(long)["notices"]
    assert any(f"is {limit + 2} s long; only the first {limit} s were processed" in n for n in notices), notices
    short = _write(tmp_path / "short.wav", tone(440, limit, sr), sr)
    assert not any("only the first" in n for n in run(short)["notices"])


# ------------------------------------------------------------------------------------------------ channels
@pytest.fixture
def surround(tmp_path):
    """A 5.1 file: 6 channels, 2 s at 22.05 kHz."""
    y = np.stack([tone(220 * (i + 1), 2.0, 22_050, amp=0.2) for i in range(6)], axis=1)
    return _write(tmp_path / "surround.wav", y, 22_050)


SURROUND_READERS = {
    "load_audio mono": lambda p: load_audio(p),
    "load_audio channels": lambda p: load_audio(p, sr=None, mono=False),
    "read_excerpts": lambda p: read_excerpts(p, 16_000, 2, 0.2),
    "(sr, samples) tuple": lambda p: load_audio(sf.read(p, dtype="float32")[::-1]),
    "analysis": lambda p: analysis.analyse_file(p),
    "tags": lambda p: tagging.tag_file(p),
    "effects": lambda p: effects.process(p, "distortion"),
}


@pytest.mark.parametrize("reader", SURROUND_READERS)
def test_more_than_two_channels_are_refused_by_every_capability_alike(surround, reader):
    with pytest.raises(AudioError, match="has 6 channels; the studio reads mono or stereo"):
        SURROUND_READERS[reader](surround)


def test_stereo_is_read_and_a_one_frame_stereo_file_is_one_sample_not_two(tmp_path):
    assert MAX_CHANNELS == 2
    y, _ = load_audio(_write(tmp_path / "st.wav", np.stack([tone(), tone()], 1), 22_050), sr=None, mono=False)
    assert y.shape == (2, 22_050)
    y, _ = load_audio(_write(tmp_path / "one.wav", np.array([[0.5, -0.5]], np.float32), 22_050), sr=None, mono=False)
    assert y.shape == (2, 1)


# ------------------------------------------------------------------------------------------------ too short
@pytest.mark.parametrize("samples", [1, 100])
def test_a_few_samples_are_refused_by_analysis_and_effects(tmp_path, samples):
    sr = 44_100
    path = _write(tmp_path / "blip.wav", np.full(samples, 0.5, np.float32), sr)
    length = "1 sample" if samples == 1 else "100 samples"
    with pytest.raises(AudioError, match=f"only {length} long: at least 0.1 s is needed to analyse it"):
        analysis.analyse_file(path)
    with pytest.raises(AudioError, match=f"only {length} long: at least 0.1 s is needed to run an effect"):
        effects.process(path, "distortion")


def test_the_shortest_accepted_input_is_analysed_and_processed(tmp_path):
    assert analysis.MIN_SECONDS == effects.MIN_SECONDS == 0.1
    path = _write(tmp_path / "tenth.wav", tone(440, 0.1, 44_100), 44_100)
    assert analysis.analyse_file(path).to_dict()["notices"] == []
    assert effects.process(path, "distortion").to_dict()["metrics"]


# ------------------------------------------------------------------------------------------------ tag a folder
def test_tag_a_folder_keeps_a_csv_row_with_the_reason_for_each_skipped_file(tmp_path, surround):
    from core.instruments import api as inst
    from tabs import instruments as tab

    if not (inst.MODEL_DIR / "cnn" / "model.safetensors").exists():
        pytest.skip("no bundled instrument model")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio")
    files = [_write(tmp_path / "good.wav", tone(660, 3.0, 16_000), 16_000), str(junk),
             _write(tmp_path / "blip.wav", np.full(1, 0.5, np.float32), 16_000), surround]
    table, csv_path = last(tab.tag_batch(files, "cnn"))
    assert [row[0] for row in table] == ["good.wav"]
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == ["good.wav", "junk.wav", "blip.wav", "surround.wav"]  # the order given
    good, *skipped = rows
    assert good["instrument"] and good["skipped"] == ""
    assert all(r["instrument"] == "" and r["skipped"] for r in skipped)
    assert "not audio this app can read" in skipped[0]["skipped"]
    assert "only 1 sample long: at least 1 s" in skipped[1]["skipped"] and "6 channels" in skipped[2]["skipped"]
