"""crema's chord model ported to torch: parity with the original (tests/data/crema/reference.npz, made once by
scripts/crema_reference.py with crema 0.2.0 on TensorFlow 2.15.1 / Keras 2.15), loading, decoding, edge cases."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.chords import crema, template

REFERENCE = Path(__file__).parent / "data" / "crema" / "reference.npz"
#: features: dB values in [-80, 0]; librosa's CQT here vs there differs by float32 rounding only
FEATURE_TOL_DB = 0.02
#: network outputs (probabilities) from the reference features: Keras float32 vs torch/numpy float32
OUTPUT_TOL = 1e-4
HEADS = {"tag": "chord_tag", "pitch": "chord_pitch", "root": "chord_root", "bass": "chord_bass"}


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(REFERENCE))


@pytest.fixture(scope="module")
def model():
    return crema.load()


@pytest.fixture(scope="module")
def clip(ref):
    return ref["pcm"].astype(np.float32) / 32768.0, int(ref["sr"])


def test_features_match_pumpp(ref, model, clip):
    feats = crema.features(*clip, model.config)
    assert feats.shape == ref["features"].shape == (64, 216, 2)
    assert np.abs(feats - ref["features"]).max() < FEATURE_TOL_DB


def test_network_matches_keras(ref, model):
    out = model.outputs(ref["features"])
    for ours, theirs in HEADS.items():
        assert out[ours].shape == ref[theirs].shape
        assert np.abs(out[ours] - ref[theirs]).max() < OUTPUT_TOL, ours


def test_viterbi_matches_librosa(ref, model):
    import librosa

    prob = ref["chord_tag"]
    transition = librosa.sequence.transition_loop(prob.shape[1], model.config.p_self)
    expected = librosa.sequence.viterbi_discriminative(prob.T, transition)
    assert (crema.viterbi(prob, model.config.p_self) == expected).all()


def test_recognise_matches_crema_predict(ref, clip):
    chords = crema.recognise(*clip)
    assert chords.labels == list(ref["seg_label"])
    starts = [s.start for s in chords.segments]
    assert np.allclose(starts, ref["seg_start"], atol=1e-5)
    ends = np.array([s.end for s in chords.segments])
    assert np.allclose(ends[:-1], (ref["seg_start"] + ref["seg_duration"])[:-1], atol=1e-5)
    assert ends[-1] == pytest.approx(chords.duration)  # crema lets the last one run a frame past the audio
    assert np.allclose([s.confidence for s in chords.segments], ref["seg_confidence"], atol=1e-4)


def test_progression_decodes_to_c_f_g_c(ref, clip):
    import librosa

    y, sr = clip
    y22 = librosa.resample(y, orig_sr=sr, target_sr=22_050)  # another rate than the reference's
    assert crema.recognise(y22, 22_050).labels == ["C:maj", "F:maj", "G:maj", "C:maj"] == list(ref["progression"])
    assert template.recognise(y22, 22_050).labels == ["C:maj", "F:maj", "G:maj", "C:maj"]


def test_silence_and_too_short(model):
    assert crema.recognise(np.zeros(3 * 22_050, np.float32), 22_050).labels == ["N"]
    short = crema.recognise(np.zeros(1000, np.float32) + 0.1, 22_050)  # 45 ms: less than one 93 ms frame
    assert short.labels == ["N"] and short.segments[0].end == pytest.approx(1000 / 22_050, abs=1e-5)
    assert crema.recognise(np.zeros(0, np.float32), 22_050).segments == []
    assert template.recognise(np.zeros(22_050, np.float32), 22_050).labels == ["N"]


def test_load_from_config(tmp_path, model):
    src = crema.resolve()
    spec = json.loads((src / "config.json").read_text())
    assert spec["kind"] == "crema-chord" and len(spec["kwargs"]["labels"]) == 170
    (tmp_path / "config.json").write_text(json.dumps(spec))
    (tmp_path / "model.safetensors").symlink_to(src / "model.safetensors")
    other = crema.load(tmp_path)
    assert other is not model and other.config == model.config
    feats = np.random.default_rng(0).uniform(-80, 0, (20, 216, 2)).astype(np.float32)
    assert np.allclose(other.outputs(feats)["tag"], model.outputs(feats)["tag"])
    (tmp_path / "config.json").write_text(json.dumps({**spec, "kind": "lstm"}))
    crema._load.cache_clear()
    with pytest.raises(ValueError, match="crema-chord"):
        crema.load(tmp_path)


def test_outputs_and_writers(tmp_path, clip):
    chords = crema.recognise(*clip)
    d = chords.to_dict()
    assert d["segments"][0] == {"start": 0.0, "end": chords.segments[0].end, "label": "C:maj",
                                "confidence": chords.segments[0].confidence}
    json.dumps(d)
    rows = chords.to_csv(tmp_path / "c.csv").read_text().splitlines()
    assert rows[0] == "start,end,label,confidence" and rows[1].startswith("0.000,") and len(rows) == 5
    pm = chords.to_midi(tmp_path / "c.mid")
    notes = pm.instruments[0].notes
    first = sorted(n.pitch for n in notes if n.start == 0.0)
    assert first == [48, 60, 64, 67]  # C bass, C E G
    assert (tmp_path / "c.mid").stat().st_size > 0
    assert chords.intervals.shape == (4, 2)


def test_inversion_rule():
    bass_e = np.full((3, 13), 1e-3)
    bass_e[:, 4] = 1.0  # E in the bass
    assert crema._inversion("C:maj", bass_e) == "C:maj/3"
    bass_d = np.full((3, 13), 1e-3)
    bass_d[:, 2] = 1.0  # D is no chord tone of C:maj: no inversion
    assert crema._inversion("C:maj", bass_d) == "C:maj"
    assert crema._inversion("N", bass_e) == "N"


def test_key_with_chords():
    from core import key

    c_major = np.zeros((12, 8))
    c_major[[0, 2, 4, 5, 7, 9, 11]] = 1
    c_major[[0, 4, 7]] += 1
    alone = key.estimate(c_major)
    assert alone.name == "C major" and alone.evidence == "chroma" and 0 < alone.confidence <= 1
    cadence = [(0, 1, "C:maj"), (1, 2, "F:maj"), (2, 3, "G:7"), (3, 4, "C:maj")]
    both = key.estimate_with_chords(c_major, cadence)
    assert both.name == "C major" and both.evidence == "chroma+chords" and both.confidence >= alone.confidence
    assert both.runner_up != "C major" and both.margin > alone.margin
    # chords alone, a Chords object, and nothing at all
    minor = key.estimate_with_chords(None, crema.Chords([crema.Segment(0, 1, "A:min", 1), crema.Segment(1, 2, "E:7", 1),
                                                         crema.Segment(2, 3, "A:min", 1)], 3.0))
    assert minor.name == "A minor" and minor.evidence == "chords"
    assert key.estimate_with_chords(None, [(0, 1, "N")]) is None
    assert key.estimate_with_chords(c_major, [(0, 1, "N")]).evidence == "chroma"


def test_harmonics_that_are_not_octaves_get_a_cqt_each(model, clip):
    import dataclasses

    # crema's harmonics (1, 2) are read from one CQT sliced by octaves; a third harmonic is not a whole number of
    # bins away, so it gets its own CQT: the same layout either way
    config = dataclasses.replace(model.config, harmonics=(1, 2, 3))
    feats = crema.features(*clip, config)
    assert feats.shape == (64, 216, 3)
    assert np.abs(feats[..., :2] - crema.features(*clip, model.config)).max() < FEATURE_TOL_DB


def test_audio_at_half_the_models_rate_is_read_as_it_is(model, clip):
    import librosa

    # the analysis tab's 22.05 kHz: the CQT runs at that rate with half the hop instead of resampling to 44.1 kHz
    y22 = librosa.resample(clip[0], orig_sr=clip[1], target_sr=22_050)
    direct = crema.features(y22, 22_050, model.config)
    via_44k = crema.features(librosa.resample(y22, orig_sr=22_050, target_sr=44_100), 44_100, model.config)
    assert direct.shape == via_44k.shape
    assert np.abs(direct - via_44k).max() < 0.05  # dB
    assert np.abs(model.outputs(direct)["tag"] - model.outputs(via_44k)["tag"]).max() < 1e-4
