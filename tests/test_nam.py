"""Captures export to Neural Amp Modeler's .nam format: the NAM package loads the file and plays what we play."""
import json

import numpy as np
import pytest
import torch

from core.effects import api, nam
from core.effects.inference import run_model
from core.effects.models import NAMLSTM
from tests.test_effects import _pair

nam_models = pytest.importorskip("nam.models._from_nam")  # neural-amp-modeler, a dev requirement


def _signal(n=60_000, seed=1):
    return (np.random.default_rng(seed).standard_normal(n) * 0.3).astype(np.float32)


@pytest.mark.parametrize("hidden, layers", [(16, 1), (8, 2)])  # NAM's "1x16" and "2x8"
def test_an_exported_lstm_loads_in_neural_amp_modeler_and_plays_the_same(hidden, layers):
    torch.manual_seed(0)
    model = nam.settle(NAMLSTM(hidden, layers).eval())
    doc = nam.to_nam_dict(model, 44_100)
    assert doc["version"] == "0.5.4" and set(doc) == {"version", "architecture", "config", "weights", "sample_rate", "metadata"}
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
    assert doc["sample_rate"] == sr and doc["metadata"]["validation_esr"] == pytest.approx(res.metrics["ESR model vs effect"])
    theirs = nam_models.init_from_nam(doc).eval()
    with torch.no_grad():
        played = theirs(torch.from_numpy(res.dry)).numpy()
    ours = api.load(folder)(res.dry, sr)  # the saved capture, as the app runs it
    assert np.abs(played - ours).max() < 1e-5 and np.allclose(ours, res.out, atol=1e-5)
