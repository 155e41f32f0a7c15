"""Export a capture to a Neural Amp Modeler ``.nam`` file (the legacy 0.5.4 schema every NAM plugin reads).

    settle(model)                                  # start where the plugin will start
    export_nam(model, "my_amp.nam", sample_rate=44_100, metadata={"name": "my amp"})

A ``.nam`` file is JSON: ``version``, ``architecture``, ``config``, ``weights`` (one flat list of floats),
``sample_rate`` and ``metadata``. Two architectures export, NAM's own, weight for weight:

* ``NAMLSTM`` (``"LSTM"``): per layer, the (input, hidden) → gates matrix ``[W_ih | W_hh]`` row by row, the
  summed biases, the starting hidden state and the starting cell state; then the head's weights and bias, the
  order of ``nam.models.recurrent.LSTM._export_weights``.
* ``NAMWaveNet`` (``"WaveNet"``, ``core.effects.nam_wavenet``): config ``{"layers": [one dict per layer array:
  input_size, condition_size, head_size, channels, kernel_size, dilations, activation, gated, head_bias],
  "head": null, "head_scale": s}``; weights, per layer array, the rechannel's weight, then per layer the dilated
  convolution's weight and bias, the input mixin's weight and the 1x1's weight and bias, then the head
  rechannel's weight (and bias if ``head_bias``); last, ``head_scale`` itself, the order of NAM's (0.12.3 and
  0.13) ``WaveNet.export_weights``. Convolution weights are flattened (out, in, tap) as torch stores them.

``tests/test_nam.py`` loads the files with the ``neural-amp-modeler`` package and checks the output (NAM
0.13's Python loader reads only its newer WaveNet schema, so the test renames the 0.5.4 keys the way
NeuralAmpModelerCore reads them; the weights and the arithmetic are NAM's).
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np
import torch

from core.effects.models import NAMLSTM
from core.effects.nam_wavenet import NAMWaveNet

#: The schema version written: what every NAM plugin release reads.
NAM_VERSION = "0.5.4"
#: Silent samples NAM runs through an LSTM to find the state the plugin starts from.
BURN_IN_SAMPLES = 48_000


@torch.no_grad()
def settle(model, samples: int = BURN_IN_SAMPLES):
    """Set the starting state to the one after ``samples`` of silence from zero, as NAM's exporter does, so
    this model and its ``.nam`` export play the same from the first sample. A ``NAMWaveNet`` has no state (it
    already starts as if after silence, like the plugin's pre-warm) and is returned as it is."""
    if isinstance(model, NAMWaveNet):
        return model
    _, (h, c) = model.core(torch.zeros(1, samples, 1))
    model.initial_hidden.copy_(h[:, 0])
    model.initial_cell.copy_(c[:, 0])
    return model


def _flat(parts) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().astype(np.float64).ravel() for p in parts])


def lstm_weights(model: NAMLSTM) -> np.ndarray:
    """The flat weight list of a ``.nam`` LSTM, in NAM's order."""
    core, parts = model.core, []
    for i in range(core.num_layers):
        parts += [torch.cat([getattr(core, f"weight_ih_l{i}"), getattr(core, f"weight_hh_l{i}")], dim=1),
                  getattr(core, f"bias_ih_l{i}") + getattr(core, f"bias_hh_l{i}"),
                  model.initial_hidden[i], model.initial_cell[i]]
    parts += [model.head.weight, model.head.bias]
    return _flat(parts)


def wavenet_weights(model: NAMWaveNet) -> np.ndarray:
    """The flat weight list of a ``.nam`` WaveNet, in NAM's order (head_scale last, as a float32 like the rest)."""
    parts = []
    for array in model.arrays:
        parts.append(array.rechannel.weight)
        for conv, mixin, one in zip(array.convs, array.mixins, array.one_by_ones):
            parts += [conv.weight, conv.bias, mixin.weight, one.weight, one.bias]
        parts.append(array.head_rechannel.weight)
        if array.head_rechannel.bias is not None:
            parts.append(array.head_rechannel.bias)
    parts.append(torch.tensor([model.head_scale], dtype=torch.float32))
    return _flat(parts)


def to_nam_dict(model, sample_rate: int, metadata: dict | None = None) -> dict:
    """The ``.nam`` document of ``model``; a ValueError for a model NAM cannot run or weights that are not finite."""
    if isinstance(model, NAMLSTM):
        weights, architecture = lstm_weights(model), "LSTM"
        config = {"input_size": 1, "hidden_size": model.core.hidden_size, "num_layers": model.core.num_layers}
    elif isinstance(model, NAMWaveNet):
        weights, architecture = wavenet_weights(model), "WaveNet"
        config = {"layers": [dict(cfg, dilations=list(cfg["dilations"])) for cfg in model.layers_config],
                  "head": None, "head_scale": model.head_scale}
    else:
        raise ValueError("Only NAM's own architectures export to .nam: capture with one of the NAM LSTMs or WaveNets.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("The model has NaN or infinite weights (the training diverged); nothing was written.")
    meta = {"date": _date(), "name": "Music ML Studio capture", "modeled_by": "Music ML Studio", **(metadata or {})}
    return {"version": NAM_VERSION, "architecture": architecture, "config": config,
            "weights": weights.tolist(), "sample_rate": int(sample_rate), "metadata": meta}


def export_nam(model, path, sample_rate: int, metadata: dict | None = None) -> Path:
    """Write ``model`` as a ``.nam`` file at ``path`` (call :func:`settle` first, as capture mode does)."""
    doc = to_nam_dict(model, sample_rate, metadata)
    path = Path(path)
    path.write_text(json.dumps(doc))
    return path


def _date() -> dict:
    now = _dt.datetime.now()
    return {"year": now.year, "month": now.month, "day": now.day, "hour": now.hour, "minute": now.minute,
            "second": now.second}
