"""Effect emulation: effects, models, fits, API, capture, ABX (fast: tiny signals, few steps)."""
import random

import numpy as np
import pytest
import soundfile as sf
import torch

from core.audio import AudioError
from core.effects import abx, api, fx, metrics, train
from core.effects import models as M

SR = fx.SR


def tone_mix(seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sign(np.sin(2 * np.pi * 330 * t)) * (t % 0.5 < 0.3)
    return (y + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("name", fx.NAMES)
def test_every_effect_renders_same_length_finite(name):
    x = tone_mix(0.5)
    y = fx.render(name, x)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert not np.allclose(y, x)


def test_unknown_effect_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown effect"):
        fx.board("wah")


@pytest.mark.parametrize("kind", sorted(set(M.KINDS) - {"vocoder"}))  # the vocoder's hops: see its own tests
def test_models_map_batch_to_same_shape(kind):
    kwargs = {"tcn": dict(n_cond=1), "fir": dict(taps=64), "fir_bank": dict(taps=64, axes=[[0.0, 1.0]])}.get(kind, {})
    model = M.build(kind, **kwargs)
    x = torch.randn(2, 3000) * 0.3
    n_cond = {"tcn": 1, "fir_bank": 1, "delay_bank": 2}.get(kind)
    cond = torch.rand(2, n_cond) if n_cond else None
    with torch.no_grad():
        y = model(x, cond)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_cnn_is_a_window_model():
    """The fully convolutional CNN gives each sample from the last `window` inputs only."""
    model = M.BaselineCNN(window=32)
    x = torch.randn(1, 200)
    x2 = x.clone()
    x2[0, :100] = torch.randn(100)
    with torch.no_grad():
        a, b = model(x), model(x2)
    assert torch.allclose(a[0, 100 + 32 :], b[0, 100 + 32 :], atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "tcn", "wh"])
def test_network_loss_goes_down(kind):
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the initial weights and batches must not depend on which tests ran before
    np.random.seed(0)
    x = tone_mix(1.5)
    y = np.tanh(4 * x).astype(np.float32)
    kwargs = {"tcn": dict(channels=4, layers=4, n_cond=0), "lstm": dict(hidden=8), "wh": dict(post_taps=64)}[kind]
    model = M.build(kind, **kwargs)
    hist = train.fit_network(model, x, y, steps=40, seq=512, batch=4, lr=1e-2, warmup=128 if kind == "lstm" else 0,
                             log_every=10)
    assert np.mean(hist[-5:]) < 0.7 * np.mean(hist[:5])


def test_fir_fit_recovers_an_impulse_response():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SR).astype(np.float32)
    h = np.exp(-np.arange(300) / 40.0) * rng.standard_normal(300) * 0.3
    y = np.convolve(x, h)[: len(x)].astype(np.float32)
    model, _ = train.fit("fir", x, y, dict(taps=512))
    assert metrics.esr(y, api.run_model(model, x)) < 1e-3


def test_tapped_delay_finds_period_and_feedback():
    x = tone_mix(3.0)
    y = fx.render("delay", x, delay_seconds=0.1, feedback=0.5, mix=0.5)
    model, _ = train.fit("taps", x, y, dict(n_taps=8))
    assert int(model.period) == int(0.1 * SR)
    assert metrics.esr(y, api.run_model(model, x)) < 1e-3


def test_flip_flop_halves_the_frequency():
    t = np.arange(SR) / SR
    s = M.flip_flop(np.sin(2 * np.pi * 200 * t).astype(np.float32))
    rising = np.sum((s[1:] > 0) & (s[:-1] < 0))
    assert 95 <= rising <= 101  # 100 Hz square wave


def test_latency_is_found_and_removed():
    x = tone_mix(2.0)
    wet = np.concatenate([np.zeros(441, np.float32), 0.5 * x])[: len(x)]
    lag = metrics.find_latency(x, wet, SR)
    assert lag == 441
    d, w = metrics.align(x, wet, lag)
    assert len(d) == len(w) and np.allclose(w, 0.5 * d[: len(w)], atol=1e-6)
    assert metrics.find_latency(wet, x, SR) == -441  # a wet file that leads


def test_esr_and_mrstft_basics():
    x = tone_mix(1.0)
    assert metrics.esr(x, x) == 0.0
    assert metrics.esr(x, np.zeros_like(x)) == pytest.approx(1.0)
    assert metrics.mr_stft(x, x) < metrics.mr_stft(x, 0.5 * x)


# ---------------------------------------------------------------- bundled models and the API
def test_all_ten_effects_have_bundled_models_and_cards():
    found = api.bundled()
    assert set(found) == set(fx.NAMES)
    for effect, d in found.items():
        card = api.load(effect).card  # the card comes with the model
        m = card["metrics"]
        assert m["esr_model"] < m["esr_clean"] and m["mrstft_model"] < m["mrstft_clean"], effect
        assert (d / "model.safetensors").stat().st_size < 4_000_000  # a few MB at most (the reverb's IR bank: 2 MB)


@pytest.mark.parametrize("effect", ["reverb", "distortion", "compression"])
def test_process_is_closer_than_clean(tmp_path, effect):
    path = tmp_path / "dry.wav"
    sf.write(path, tone_mix(2.0, seed=3), SR)
    res = api.process(str(path), effect)
    m = res.metrics
    assert m["ESR model vs effect"] < m["ESR clean vs effect"]
    assert m["MR-STFT model vs effect"] < m["MR-STFT clean vs effect"]
    for y in (res.clean, res.effect_out, res.model_out):
        assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= 1.0
    assert np.max(np.abs(res.model_out)) <= api.PEAK_LIMIT + 1e-6


def test_distortion_follows_the_drive_knob(tmp_path):
    path = tmp_path / "dry.wav"
    sf.write(path, 0.3 * tone_mix(1.0), SR)
    soft = api.process(str(path), "distortion", {"drive_db": 6})
    hard = api.process(str(path), "distortion", {"drive_db": 30})
    assert np.mean(np.abs(hard.model_out)) > 1.5 * np.mean(np.abs(soft.model_out))
    assert hard.metrics["ESR model vs effect"] < 0.05
    with pytest.raises(ValueError, match="between"):
        api.process(str(path), "distortion", {"drive_db": 60})


def test_bad_inputs_give_clear_messages(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    with pytest.raises(AudioError, match="silent"):
        api.process(str(silent), "reverb")
    with pytest.raises(ValueError, match="Unknown effect"):
        api.process(str(silent), "wah")
    stereo_clipped = tmp_path / "st.wav"
    sf.write(stereo_clipped, np.stack([np.clip(3 * tone_mix(1.0), -1, 1)] * 2, 1), SR)
    res = api.process(str(stereo_clipped), "delay")
    assert any("clipped" in n for n in res.notes)


# ---------------------------------------------------------------- capture mode
def _pair(tmp_path, sr=SR, lag=300, seconds=10.5, dry_sr=SR):
    x = tone_mix(seconds, seed=5)
    y = np.tanh(3 * x) * 0.5
    y = np.concatenate([np.zeros(lag, np.float32), y])[: len(x)]
    d, w = tmp_path / "dry.wav", tmp_path / "wet.wav"
    sf.write(d, x, dry_sr)
    sf.write(w, y, sr)
    return str(d), str(w)


def test_capture_trains_end_to_end_and_saves(tmp_path):
    torch.set_num_threads(1)
    d, w = _pair(tmp_path)
    res = api.capture(d, w, model="wh", steps=60)
    assert res.latency == 300
    assert res.metrics["ESR model vs effect"] < res.metrics["ESR clean vs effect"]
    folder = api.save_capture(res, tmp_path / "cap")
    loaded = api.load(folder)  # a capture's folder loads like a bundled model, and runs like a pedalboard effect
    assert loaded.config == res.config and loaded.card["metrics"]
    assert np.allclose(loaded(res.dry, fx.SR), api.run_model(res.model, res.dry, res.config), atol=1e-5)
    with pytest.raises(ValueError, match="runs at 44100 Hz"):
        loaded(res.dry, 48_000)


def test_capture_rejects_mismatched_pairs(tmp_path):
    d, w = _pair(tmp_path, sr=48_000)
    with pytest.raises(AudioError, match="same sample rate"):
        api.capture(d, w)
    d, w = _pair(tmp_path)
    short = tmp_path / "short.wav"
    sf.write(short, tone_mix(1.0), SR)
    with pytest.raises(AudioError, match="same take|shorter"):
        api.capture(d, str(short))


def test_capture_refuses_short_and_mono_stereo_pairs_with_one_message_each(tmp_path):
    x = tone_mix(6.0, seed=5)
    sf.write(tmp_path / "d.wav", x, SR)
    sf.write(tmp_path / "w.wav", np.tanh(3 * x), SR)
    with pytest.raises(AudioError, match="6.0 s long; give at least 10 s"):
        api.capture(str(tmp_path / "d.wav"), str(tmp_path / "w.wav"))
    x = tone_mix(10.5, seed=5)
    sf.write(tmp_path / "d.wav", x, SR)
    sf.write(tmp_path / "w.wav", np.stack([x, x], axis=1), SR)
    with pytest.raises(AudioError, match="dry file is mono and the wet file stereo"):
        api.capture(str(tmp_path / "d.wav"), str(tmp_path / "w.wav"))


def test_a_48_khz_pair_trains_at_48_khz(tmp_path):
    torch.set_num_threads(1)
    d, w = _pair(tmp_path, sr=48_000, dry_sr=48_000, seconds=12.0)  # 44.1 kHz samples written at 48 kHz: 11 s
    res = api.capture(d, w, model="fir")
    assert res.sr == 48_000 and res.config["sr"] == 48_000 and res.latency == 300
    folder = api.save_capture(res, tmp_path / "cap")
    assert api.load(folder).sample_rate == 48_000


def test_capture_can_be_cancelled(tmp_path):
    d, w = _pair(tmp_path)
    with pytest.raises(train.Cancelled):
        api.capture(d, w, model="lstm", steps=500, cancel=lambda: True)


# ---------------------------------------------------------------- ABX
def test_abx_scores_model_and_hidden_reference_trials():
    rng = random.Random(0)
    state = abx.ABXState()
    with pytest.raises(ValueError, match="Start a trial"):
        abx.answer(state, "A")
    kinds = []
    for _ in range(20):
        state = abx.new_trial(state, "reverb", rng)
        kinds.append(state.current)
        state = abx.answer(state, "B" if state.current in ("model", "B") else "A")
    s = abx.score(state)
    assert s["trials"] == 20 and s["model heard as the effect (B)"] == s["model trials"]
    assert s["hidden references identified"] == s["hidden-reference trials"] > 0
    assert abx.new_trial(state, "delay", rng).trials == []  # a new effect starts a new score


def test_single_thread_nests_and_restores():
    before = torch.get_num_threads()
    with api.single_thread():
        with api.single_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_an_emulation_further_from_the_effect_than_clean_is_flagged():
    import numpy as np

    from core.effects.api import EffectResult

    z = np.zeros(4, np.float32)
    metrics = {"ESR model vs effect": 1.8, "ESR clean vs effect": 1.0, "MR-STFT model vs effect": 2.0,
               "MR-STFT clean vs effect": 2.4}
    assert EffectResult("octave", 44_100, z, z, z, metrics, {}, {}).worse_than_clean == ["ESR"]
    good = {**metrics, "ESR model vs effect": 0.01}
    assert EffectResult("octave", 44_100, z, z, z, good, {}, {}).worse_than_clean == []


def test_input_cut_to_the_cap_is_announced(tmp_path):
    sr = 22_050
    t = np.arange(int(12 * sr)) / sr
    path = tmp_path / "long.wav"
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    res = api.process(str(path), "reverb", max_seconds=5.0)
    assert any("12 s long; only the first 5 s were processed" in n for n in res.notes)
    assert not any("only the first" in n for n in api.process(str(path), "reverb").notes)


def test_a_freshly_trained_effect_card_holds_what_the_tab_shows_measured_once(tmp_path, monkeypatch):
    """Train a bundled recipe (quick) into a temporary folder: its card has every key the tab reads, and the
    figures measured in memory before saving equal a fresh evaluation of the saved weights."""
    from core.effects import evaluate

    torch.set_num_threads(1)
    monkeypatch.setattr(train, "OUT_DIR", tmp_path)
    folder = train.train_bundled("lowpass", quick=True)
    card = api.load(folder).card
    m = card["metrics"]
    assert {"name", "architecture", "notes", "command"} <= set(card) and card["notes"] == M.NOTES["fir_bank"]
    assert m["esr_model"] < m["esr_clean"] and m["closer_than_clean"]
    fresh = evaluate.evaluate_model(folder)
    assert len(fresh["knob_grid"]) == m["grid_settings"] >= 5 and fresh == {k: m[k] for k in fresh}


@pytest.mark.parametrize("name", sorted(api.bundled()) + ["distortion-cnn", "reverb-lstm"])
def test_every_bundled_model_streams_a_long_file_as_one_pass_would(name):
    """Chunks with their context (feed-forward) or their state (recurrent) give the one-pass samples."""
    from core.effects.inference import run_model

    torch.set_num_threads(1)
    m = api.load(name)
    x = tone_mix(4.0, seed=11)  # 176,400 samples, streamed here in chunks of 2^15
    cond = api.default_cond(m.config)
    whole = run_model(m.net, x, m.config, cond, chunk=None)
    assert np.abs(run_model(m.net, x, m.config, cond, chunk=1 << 15) - whole).max() < 1e-5, name


# ---------------------------------------------------------------- knobs on every effect
def test_grid_weights_interpolate_between_the_neighbouring_points():
    axes = [[0.0, 0.5, 1.0], [0.0, 1.0]]
    assert M.grid_weights(axes, [0.5, 0.0]) == [(2, 1.0)]  # on a grid point: that point alone (flat index 1*2+0)
    w = dict(M.grid_weights(axes, [0.25, 0.5]))
    assert w == pytest.approx({0: 0.25, 1: 0.25, 2: 0.25, 3: 0.25})
    assert dict(M.grid_weights(axes, [2.0, -1.0])) == {4: 1.0}  # outside: the edge


def test_knob_grid_has_the_default_every_corner_and_off_grid_settings():
    config = {"knob_ranges": fx.EFFECTS["reverb"].knob_ranges, "knobs": fx.EFFECTS["reverb"].knobs}
    grid = metrics.knob_grid(config)
    assert grid[0] == {"room_size": 0.5, "damping": 0.5}
    for corner in ({"room_size": 0.1, "damping": 0.1}, {"room_size": 0.9, "damping": 0.9}):
        assert any(g == pytest.approx(corner) for g in grid)
    assert any(g["room_size"] == pytest.approx(0.1 + 0.37 * 0.8) for g in grid)  # between the bank's grid points


@pytest.mark.parametrize("effect", [e for e in fx.NAMES if e != "distortion"])  # distortion: its own test above
def test_every_bundled_model_follows_its_knobs_to_both_ends(tmp_path, effect):
    """At the lowest and the highest setting of every knob (the others at their defaults) the model's output
    changes with the knob and stays closer to the real effect than the clean input is."""
    path = tmp_path / "dry.wav"
    x = tone_mix(1.5, seed=4)
    sf.write(path, 0.9 * x / np.abs(x).max(), SR)  # loud enough that the compressor acts at -6 dB
    torch.set_num_threads(1)
    for knob, (lo, hi) in fx.EFFECTS[effect].knob_ranges.items():
        a, b = (api.process(str(path), effect, {knob: v}) for v in (lo, hi))
        assert b.knobs[knob] == hi and not np.allclose(a.model_out, b.model_out, atol=1e-4), (effect, knob)
        for res in (a, b):
            if res.metrics["ESR clean vs effect"] < 1e-6:  # the effect does nothing here (a compressor above the
                assert res.metrics["ESR model vs effect"] < 0.05, (effect, knob)  # peaks): nor may the model, much
            else:
                assert not res.worse_than_clean, (effect, knob, res.knobs, res.metrics)


def test_knobs_a_model_does_not_follow_or_out_of_range_get_one_message(tmp_path):
    path = tmp_path / "dry.wav"
    sf.write(path, 0.3 * tone_mix(1.0), SR)
    with pytest.raises(ValueError, match="no knob 'drive_db'; the knobs it follows: room_size, damping"):
        api.process(str(path), "reverb", {"drive_db": 10})
    with pytest.raises(ValueError, match=r"Room size must be a number between 0.1 and 0.9"):
        api.process(str(path), "reverb", {"room_size": 1.5})
    with pytest.raises(ValueError, match="Semitones"):
        api.process(str(path), "pitch", {"semitones": float("nan")})


def _peak_hz(y, sr=SR):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[int(np.argmax(spec))]


def test_phase_vocoder_moves_every_note_of_a_chord():
    """A C major triad shifted +5 semitones: each partial lands at its own frequency x 2^(5/12) (polyphonic),
    not at one common pitch as a monophonic divider would."""
    from core.effects.inference import run_model

    t = np.arange(2 * SR) / SR
    notes = (261.63, 329.63, 392.0)
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in notes).astype(np.float32)
    model = M.build("vocoder", semitone_range=(-12, 12), phase_lock=True)
    y = run_model(model, chord, None, np.array([(5 + 12) / 24], np.float32))
    spec = np.abs(np.fft.rfft(y[SR // 2 :] * np.hanning(len(y) - SR // 2)))
    freqs = np.fft.rfftfreq(len(y) - SR // 2, 1 / SR)
    for f in notes:
        target = f * 2 ** (5 / 12)
        band = (freqs > target * 0.98) & (freqs < target * 1.02)
        assert spec[band].max() > 0.3 * spec.max(), f  # a strong partial at every shifted note
        old = (freqs > f * 0.99) & (freqs < f * 1.01)
        assert spec[old].max() < 0.05 * spec.max(), f  # and none left at the original ones
    same = run_model(model, chord, None, np.array([0.5], np.float32))  # 0 semitones: the input itself
    assert np.abs(same - chord).max() < 1e-4


def test_tab_shows_one_slider_per_knob_of_the_chosen_effect():
    from tabs import effects as tab

    ups = tab.knob_updates("compression")
    assert [u["label"] for u in ups] == ["Threshold (dB)", "Ratio (:1)", "Attack (ms)", "Release (ms)"]
    assert (ups[1]["minimum"], ups[1]["maximum"], ups[1]["value"]) == (2.0, 20.0, 6.0)
    ups = tab.knob_updates("pitch")
    assert ups[0]["visible"] and ups[0]["label"] == "Semitones" and [u["visible"] for u in ups[1:]] == [False] * 3
    assert tab.knob_values("reverb", [0.8, 0.2, 0, 0]) == {"room_size": 0.8, "damping": 0.2}


def test_the_tab_names_a_bank_by_its_grid_size_not_its_coordinates():
    from core.effects.api import _short

    arch = "fir_bank: FIRBank(taps=4096, axes=[[0.0, 0.24999999999999997, 1.0], [0.0, 1.0]]), 24576 parameters"
    assert _short(arch) == "fir_bank: FIRBank(taps=4096, a 3 x 2 knob grid), 24576 parameters"
    assert _short("TCN(channels=8)") == "TCN(channels=8)"


def test_mr_stft_is_auralosss_multi_resolution_loss_and_stops_when_cancelled():
    import auraloss
    import torch

    from core.effects.metrics import mr_stft
    from core.training import Cancelled, cancel_scope

    rng = np.random.default_rng(0)
    x = rng.standard_normal(22_050).astype(np.float32)
    y = x + 0.1 * rng.standard_normal(22_050).astype(np.float32)
    ref = float(auraloss.freq.MultiResolutionSTFTLoss()(torch.tensor(y)[None, None], torch.tensor(x)[None, None]))
    assert mr_stft(x, y) == pytest.approx(ref, rel=1e-6)
    with cancel_scope(lambda: True), pytest.raises(Cancelled):
        mr_stft(x, y)


def test_a_peak_just_under_full_scale_is_not_called_clipped_after_resampling(tmp_path):
    sr = 48_000
    t = np.arange(sr) / sr
    y = 0.991 * np.sign(np.sin(2 * np.pi * 997 * t)).astype(np.float32)  # a square: resampling rings past 1.0
    sf.write(tmp_path / "near.wav", y, sr, subtype="FLOAT")
    x, notes = api._load_dry(str(tmp_path / "near.wav"))
    assert np.max(np.abs(x)) > 0.999 and not any("clipped" in n for n in notes)  # the resampler's overshoot
    sf.write(tmp_path / "full.wav", np.clip(y / 0.991, -1, 1), sr, subtype="FLOAT")
    assert any("clipped" in n for n in api._load_dry(str(tmp_path / "full.wav"))[1])
