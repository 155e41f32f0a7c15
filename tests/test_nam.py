"""Captures export to Neural Amp Modeler's .nam format: the NAM package loads the file and plays what we play."""
import copy
import json

import numpy as np
import pytest
import torch

from core.effects import api, nam
from core.effects.inference import run_model
from core.effects.models import NAMLSTM
from core.effects.nam_wavenet import PRESETS, NAMWaveNet
from tests.test_effects import _pair

nam_models = pytest.importorskip("nam.models._from_nam")  # neural-amp-modeler, a dev requirement


def _signal(n=60_000, seed=1):
    return (np.random.default_rng(seed).standard_normal(n) * 0.3).astype(np.float32)


@pytest.mark.parametrize("hidden, layers", [(16, 1), (8, 2)])  # NAM's "1x16" and "2x8"
def test_an_exported_lstm_loads_in_neural_amp_modeler_and_plays_the_same(hidden, layers):
    torch.manual_seed(0)
    model = nam.settle(NAMLSTM(hidden, layers).eval())
    doc = nam.to_nam_dict(model, 44_100)
    assert doc["version"] == "0.5.4"
    assert set(doc) == {"version", "architecture", "config", "weights", "sample_rate", "metadata"}
    theirs = nam_models.init_from_nam(json.loads(json.dumps(doc))).eval()
    assert len(theirs._export_weights()) == len(doc["weights"])  # NAM rejects a file one weight off
    assert np.allclose(theirs._export_weights(), doc["weights"], atol=1e-6)  # and writes back the same list
    x = _signal()
    with torch.no_grad():
        played = theirs(torch.from_numpy(x)).numpy()
    assert np.abs(played - run_model(model, x, {})).max() < 1e-5  # chunked with its state here, one pass in NAM


def test_nothing_not_finite_or_not_nam_is_written(tmp_path):
    model = NAMLSTM(4, 1)
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        nam.export_nam(model, tmp_path / "bad.nam", 44_100)
    assert not (tmp_path / "bad.nam").exists()
    with pytest.raises(ValueError, match="NAM's own architectures"):
        nam.to_nam_dict(torch.nn.Linear(1, 1), 44_100)


@pytest.mark.parametrize("sr", [44_100, 48_000])
def test_a_nam_capture_saves_a_file_the_nam_package_reproduces(tmp_path, sr):
    torch.set_num_threads(1)
    d, w = _pair(tmp_path, sr=sr, dry_sr=sr, seconds=12.0)
    res = api.capture(d, w, model="nam-lstm-1x16", steps=40)
    assert res.kind == "nam_lstm" and res.config["architecture"] == "nam-lstm-1x16"
    folder = api.save_capture(res, tmp_path / "cap")
    doc = json.loads((folder / "model.nam").read_text())
    assert doc["sample_rate"] == sr
    assert doc["metadata"]["validation_esr"] == pytest.approx(res.metrics["ESR model vs effect"])
    theirs = nam_models.init_from_nam(doc).eval()
    with torch.no_grad():
        played = theirs(torch.from_numpy(res.dry)).numpy()
    ours = api.load(folder)(res.dry, sr)  # the saved capture, as the app runs it
    assert np.abs(played - ours).max() < 1e-5 and np.allclose(ours, res.out, atol=1e-5)


# ---------------------------------------------------------------- WaveNet
#: A small config that uses what the presets do not: gating, other activations, kernel sizes, no head bias.
_CUSTOM = {"preset": None, "head_scale": 0.3, "layers": [
    {"input_size": 1, "condition_size": 1, "head_size": 3, "channels": 4, "kernel_size": 2, "dilations": [1, 3, 9],
     "activation": "ReLU", "gated": True, "head_bias": False},
    {"input_size": 4, "condition_size": 1, "head_size": 1, "channels": 3, "kernel_size": 4, "dilations": [2, 5],
     "activation": "Hardtanh", "gated": False, "head_bias": True}]}
_WAVENETS = {**{p: {"preset": p} for p in PRESETS}, "custom": _CUSTOM}
_LEGACY_KEYS = {"input_size", "condition_size", "head_size", "channels", "kernel_size", "dilations", "activation",
                "gated", "head_bias"}


def _random_wavenet(kwargs, seed=0):
    torch.manual_seed(seed)
    model = NAMWaveNet(**kwargs).eval()
    with torch.no_grad():  # larger than the default init, so every tanh works in its curved part
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return model


def _as_nam_013(doc):
    """NAM 0.13's Python loader reads only its own newer WaveNet schema (a "head" object per layer array, gating
    in the activation), not the 0.5.4 one the plugins read and NAM <= 0.12.3 wrote. Rename the keys the way
    NeuralAmpModelerCore reads a 0.5.4 file: head_size/head_bias are a kernel-1 head rechannel, gated is
    activation * sigmoid. The weights are not touched (the layout is the same)."""
    doc = copy.deepcopy(doc)
    for lc in doc["config"]["layers"]:
        size, bias, gated = lc.pop("head_size"), lc.pop("head_bias"), lc.pop("gated")
        lc["head"] = {"out_channels": size, "kernel_size": 1, "bias": bias}
        if gated:
            lc["activation"] = {"name": "PairMultiply", "primary": lc["activation"], "secondary": "Sigmoid"}
    return doc


@pytest.mark.parametrize("name", list(_WAVENETS))
def test_an_exported_wavenet_loads_in_neural_amp_modeler_and_plays_the_same(name):
    torch.set_num_threads(1)
    model = nam.settle(_random_wavenet(_WAVENETS[name]))  # nothing to settle: returned as it is
    doc = json.loads(json.dumps(nam.to_nam_dict(model, 48_000)))
    assert doc["version"] == "0.5.4" and doc["architecture"] == "WaveNet"
    assert set(doc["config"]) == {"layers", "head", "head_scale"} and doc["config"]["head"] is None
    assert all(set(lc) == _LEGACY_KEYS for lc in doc["config"]["layers"])  # the 0.5.4 layer-array keys, no more
    assert doc["weights"][-1] == pytest.approx(doc["config"]["head_scale"])  # the plugin reads it from the end
    theirs = nam_models.init_from_nam(_as_nam_013(doc)).eval()
    assert len(theirs._export_weights()) == len(doc["weights"])  # NAM rejects a file one weight off
    assert np.array_equal(theirs._export_weights(), np.float32(doc["weights"]))  # and writes back the same list
    for ours, lc in zip(doc["config"]["layers"], theirs._export_config()["layers"]):
        # NAM built exactly the net a 0.5.4 file describes: no bottleneck, head 1x1, groups or FiLM
        assert lc["channels"] == lc["bottleneck"] == ours["channels"] and lc["dilations"] == ours["dilations"]
        assert lc["kernel_sizes"] == [ours["kernel_size"]] * len(ours["dilations"])
        assert not lc["head1x1"]["active"] and lc["layer1x1"] == {"active": True, "groups": 1}
        assert lc["groups_input"] == lc["groups_input_mixin"] == 1
        assert not any(v["active"] for k, v in lc.items() if k.endswith("_film"))
    assert theirs.receptive_field == model.receptive_field
    x = _signal(20_000)
    with torch.no_grad():
        ours = model(torch.from_numpy(x)[None])[0].numpy()
        # NAM's WaveNet pads receptive_field - 1 zeros before the input (pad_start, its default): the same zero
        # history as ours, so every sample compares. Without the padding it returns only the samples that have
        # a whole real history, len - (receptive_field - 1) of them: ours from receptive_field - 1 on.
        played = theirs(torch.from_numpy(x)).numpy()
        unpadded = theirs(torch.from_numpy(x), pad_start=False).numpy()
    assert ours.shape == x.shape and ours.std() > 1e-3  # a signal, not silence, is compared
    assert np.abs(played - ours).max() < 1e-5
    assert np.abs(unpadded - ours[model.receptive_field - 1 :]).max() < 1e-5


@pytest.mark.parametrize("name", ["standard", "custom"])
def test_a_wavenet_run_in_chunks_gives_the_samples_of_one_pass(name):
    torch.set_num_threads(1)
    model = _random_wavenet(_WAVENETS[name], seed=3)
    assert model.stateful is False
    x = _signal(20_000, seed=4)
    whole = run_model(model, x, {}, None, chunk=None)
    assert np.abs(run_model(model, x, {}, None, chunk=1 << 12) - whole).max() < 1e-5
    # the first samples are those of a model that heard silence before: a causal net with zero history
    delayed = run_model(model, np.concatenate([np.zeros(5_000, np.float32), x]), {}, None)
    assert np.abs(delayed[5_000:] - whole).max() < 1e-5


def test_a_wavenet_rebuilds_from_its_json_kwargs_and_refuses_what_nam_cannot_read():
    kwargs = json.loads(json.dumps(_CUSTOM))
    a, b = _random_wavenet(kwargs), NAMWaveNet(**kwargs)
    b.load_state_dict(a.state_dict())
    assert nam.to_nam_dict(a, 44_100)["weights"] == nam.to_nam_dict(b, 44_100)["weights"]
    assert NAMWaveNet("lite").layers_config == PRESETS["lite"]["layers"]
    layer = _CUSTOM["layers"][0]
    for bad in [dict(preset="huge"), dict(preset=None, layers=[dict(layer, bottleneck=2)]),
                dict(preset=None, layers=[dict(layer, activation="LeakyReLU")]),
                dict(preset=None, layers=[dict(layer, condition_size=2)]),
                dict(preset=None, layers=[dict(layer, head_size=1), dict(_CUSTOM["layers"][1], input_size=3)]),
                dict(preset=None, layers=[layer])]:  # head_size 3 left over: not mono out
        with pytest.raises(ValueError):
            NAMWaveNet(**bad)
    with torch.no_grad():
        a.arrays[-1].head_rechannel.bias.fill_(float("inf"))
    with pytest.raises(ValueError, match="NaN"):
        nam.to_nam_dict(a, 44_100)


def test_a_wavenet_capture_saves_a_nam_file_that_plays_what_the_app_plays(tmp_path):
    """Capture mode with NAM's WaveNet feather: the zip's model.nam, loaded by the NAM package, plays the capture."""
    torch.set_num_threads(1)
    d, w = _pair(tmp_path, seconds=12.0)
    res = api.capture(d, w, model="nam-wavenet-feather", steps=20)
    assert res.kind == "nam_wavenet" and res.metrics["ESR model vs effect"] < 5
    folder = api.save_capture(res, tmp_path / "cap")
    doc = json.loads((folder / "model.nam").read_text())
    assert doc["architecture"] == "WaveNet" and doc["version"] == "0.5.4"
    theirs = nam_models.init_from_nam(_as_nam_013(doc)).eval()
    with torch.no_grad():
        played = theirs(torch.from_numpy(res.dry)).numpy()
    assert np.abs(played - api.load(folder)(res.dry, 44_100)).max() < 1e-5
