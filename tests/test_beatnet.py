"""BeatNet port: parity with the original code (madmom features, BeatNet's BDA class), loading, tracking.

The reference (tests/data/beatnet/reference.npz) was made once by scripts/beatnet_reference.py: madmom 0.16.1
running BeatNet's LOG_SPECT, and BeatNet's own model.py with the wheel's model_N_weights.pt, on two clips
made by code. The bundled checkpoint is model 2.
"""
from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from core import tempo
from core.beats import beatnet as bn

DATA = Path(__file__).parent / "data" / "beatnet"
CLIPS = ("drumloop_120", "waltz_150")
#: Parity tolerances (absolute). Features are log10(1 + x) values up to ~2: float32 FFT vs madmom's float64 FFT.
FEATURE_ATOL = 1e-5
ACTIVATION_ATOL = 1e-5
BUNDLED = 2  # which of BeatNet's 3 checkpoints assets/models/beats/beatnet holds


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


@pytest.fixture(scope="module")
def ref():
    return np.load(DATA / "reference.npz")


@pytest.mark.parametrize("name", CLIPS)
def test_features_match_madmom(ref, name):
    feats = bn.features(read_wav(DATA / f"{name}.wav"), bn.SR)
    assert feats.shape == (int(ref[f"{name}/n_frames"]), bn.N_FEATURES)
    assert feats.dtype == np.float32
    step = int(ref["feature_step"])
    np.testing.assert_allclose(feats[::step], ref[f"{name}/features"], atol=FEATURE_ATOL, rtol=0)


@pytest.mark.parametrize("name", CLIPS)
def test_activations_match_original_network(ref, name):
    act = bn.activations(read_wav(DATA / f"{name}.wav"), bn.SR)
    assert act.shape == ref[f"{name}/act{BUNDLED}"].shape
    np.testing.assert_allclose(act.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(act, ref[f"{name}/act{BUNDLED}"], atol=ACTIVATION_ATOL, rtol=0)


def test_constants_as_beatnet():
    assert (bn.HOP, bn.WIN, bn.FPS) == (441, 1411, 50.0)
    assert bn.filterbank().shape == (705, 136)
    np.testing.assert_allclose(bn.filterbank().sum(axis=0), 1.0, rtol=1e-5)  # each band normalised to area 1
    assert bn.diff_frames() == 1


def test_frames_centred_like_madmom():
    y = np.arange(1, 1000, dtype=np.float32)
    frames = bn.frame_signal(y, frame_size=5, hop=100)
    assert len(frames) == 10  # ceil(999 / 100)
    np.testing.assert_array_equal(frames[0], [0, 0, 1, 2, 3])  # centred on sample 0, zero padded
    np.testing.assert_array_equal(frames[3], y[298:303])


def test_load_from_config(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    cfg = json.loads((bn.MODEL_DIR / "config.json").read_text())
    assert cfg["kind"] == "beatnet"
    torch.manual_seed(0)
    net = bn.build(**cfg["kwargs"])
    save_file(net.state_dict(), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    loaded = bn.from_dir(tmp_path)
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    assert not loaded.training
    (tmp_path / "config.json").write_text(json.dumps({"kind": "other", "kwargs": {}}))
    with pytest.raises(ValueError):
        bn.from_dir(tmp_path)
    assert bn.load("beatnet") is bn.load(bn.MODEL_DIR)  # cached once per path


def test_bundled_card_and_licence():
    card = json.loads((bn.MODEL_DIR / "card.json").read_text())
    assert "CC BY 4.0" in card["licence"] and f"model {BUNDLED}" in card["name"]
    assert "Attribution 4.0 International" in (bn.MODEL_DIR / "LICENSE.md").read_text()


def drum_loop(bpm: float, seconds: float, sr: int = bn.SR) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, hats on eighths: made here, no data."""
    rng = np.random.default_rng(1)
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * np.cumsum(50 + 90 * np.exp(-t / 0.03)) / sr) * np.exp(-t / 0.12)
    snare = (rng.standard_normal(len(t)) * 0.6 + np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.06)
    hat = np.diff(rng.standard_normal(len(t) + 1)) * 0.25 * np.exp(-t / 0.015)
    y = np.zeros(int(seconds * sr) + len(t))
    half = 30.0 / bpm
    for k in range(int(seconds / half)):
        s = int(round(k * half * sr))
        y[s:s + len(t)] += hat + ((kick if (k // 2) % 2 == 0 else snare) if k % 2 == 0 else 0)
    return (0.5 * y[:int(seconds * sr)] / np.abs(y).max()).astype(np.float32)


@pytest.mark.parametrize("bpm", [100.0, 128.0])
def test_drum_loop_tempo_and_beats(bpm):
    y = drum_loop(bpm, 12.0)
    b = bn.track(y, bn.SR)
    assert b.bpm == pytest.approx(bpm, rel=0.04)
    truth = np.arange(0, 12.0, 60.0 / bpm)
    # mir_eval, 70 ms: librosa's tracker slips off the last 2-3 beats at 128 BPM (F 0.87), hence not 1
    assert tempo.beat_f(truth, b.beats) > 0.85
    assert b.beats_per_bar in (3, 4) and set(np.round(b.downbeats, 2)) <= set(np.round(b.beats, 2))
    d = b.to_dict()
    assert json.loads(json.dumps(d))["bpm"] == round(b.bpm, 2)


def test_resampled_input_gives_same_tempo():
    y = drum_loop(120.0, 8.0, sr=44_100)
    assert bn.track(y, 44_100).bpm == pytest.approx(120.0, rel=0.04)


def test_short_and_silent_audio():
    assert bn.track(np.zeros(3 * bn.SR, np.float32), bn.SR).bpm is None
    short = bn.track(drum_loop(120.0, 1.0), bn.SR)
    assert short.bpm is None and len(short.beats) == 0 and short.to_dict()["beats"] == []
    assert bn.features(np.zeros(0, np.float32), bn.SR).shape == (0, bn.N_FEATURES)
    assert bn.activations(np.zeros(0, np.float32), bn.SR).shape == (0, 3)
    assert bn.activations(np.zeros(100, np.float32), bn.SR).shape == (1, 3)


def test_metrical_level_uses_the_bar():
    # 4/4 at 150 BPM: a bar of 1.6 s; the periodicity read the dotted level (100 BPM, 2.67 beats a bar)
    assert bn.metrical_level(100.0, 1.6) == pytest.approx(150.0)
    assert bn.metrical_level(150.0, 1.6) == 150.0
    assert bn.metrical_level(120.0, None) == 120.0
    assert bn.metrical_level(90.0, 2.0) == 90.0  # 3 beats a bar: kept


def test_bar_phase_finds_meter_and_phase():
    frames = np.arange(10, 400, 25)
    down = np.zeros(420)
    down[frames[1::3]] = 0.8  # 3/4, first downbeat on the second beat
    assert bn.bar_phase(down, frames) == (3, 1)
    assert bn.bar_phase(down, frames[:3]) == (None, 0)


def test_real_methods_include_beatnet():
    assert {"beatnet", "beatnet_librosa"} <= set(tempo.real_methods())


def test_the_network_in_chunks_with_its_state_carried_gives_the_same_logits():
    import torch

    from core.beats import beatnet

    net = beatnet.load()
    x = torch.from_numpy(np.random.default_rng(0).random((1, 700, beatnet.N_FEATURES), dtype=np.float32))
    with torch.inference_mode():
        whole, parts = net(x), net(x, chunk=256)
    assert torch.allclose(whole, parts, atol=1e-5)
