"""Neural Amp Modeler's WaveNet, weight for weight, so a capture exports to a ``.nam`` file (``core.effects.nam``).

    net = NAMWaveNet("standard")                 # or "lite", "feather", or layers=[{...}, ...], head_scale=0.02
    y = net(x)                                   # (batch, samples) -> (batch, samples), causal

The network is a stack of *layer arrays*. Array ``i`` rechannels its input (1x1, no bias) to ``channels``, then
runs one layer per dilation: ``z = conv_d(x) + mixin(audio)`` (a dilated valid convolution with bias plus a 1x1
of the dry input, no bias), ``a = act(z)`` (gated: ``act(z[:C]) * sigmoid(z[C:])``), ``x = x + 1x1(a)``; every
layer's ``a`` is summed into the array's head input, on top of the previous array's head output, and a 1x1
"head rechannel" (bias if ``head_bias``) maps it to ``head_size`` channels: the next array's ``channels``, or 1
for the last one, whose output times ``head_scale`` is the model's output. That is NAM's ``_Layers`` /
``_WaveNet`` (``nam/models/wavenet.py`` up to 0.12.3; ``nam/models/wavenet/`` in 0.13 with the per-layer head
1x1 and FiLM off), the layout NeuralAmpModelerCore runs.

Zero history: the input is preceded by ``receptive_field - 1`` zeros, exactly as NAM's ``forward`` pads
(``pad_start``) and as the plugin's pre-warm on silence does, so the first output samples are those of a model
that has heard silence forever, and the output has the input's length. Every layer's bias reaches those
padded samples as it would in the plugin; padding each convolution with zeros instead would differ there.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Activations every NAM plugin release knows by name (NeuralAmpModelerCore's first activation table; later
#: releases add LeakyReLU, SiLU, Hardswish, ... which older plugins refuse, so they are not offered here).
ACTIVATIONS = {"Tanh": torch.tanh, "Hardtanh": F.hardtanh, "ReLU": F.relu, "Sigmoid": torch.sigmoid}

#: One layer array as the 0.5.4 schema writes it, with NAM's defaults for the optional keys.
_REQUIRED = ("input_size", "condition_size", "head_size", "channels", "kernel_size", "dilations")
_DEFAULTS = {"activation": "Tanh", "gated": True, "head_bias": True}  # NAM's legacy ``_Layers`` defaults

_FIRST = [1, 2, 4, 8, 16, 32, 64]
_SECOND = [128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def _array(input_size, channels, head_size, dilations, head_bias):
    return {"input_size": input_size, "condition_size": 1, "head_size": head_size, "channels": channels,
            "kernel_size": 3, "dilations": list(dilations), "activation": "Tanh", "gated": False,
            "head_bias": head_bias}


#: NAM's WaveNet presets (``nam.train.core.get_wavenet_config``), in the 0.5.4 layer-array form NAM 0.12.3
#: wrote them. NAM 0.13.0's trainer has no presets any more: it trains one PackedWaveNet (3- and 8-channel
#: submodels, per-layer kernel sizes 6 and 15, LeakyReLU, a kernel-16 head rechannel, head_scale 0.01) that
#: the 0.5.4 schema cannot express (no per-layer kernel sizes, head kernel always 1, no LeakyReLU in older
#: plugins, no packing). These are the standard / lite / feather NAM defined from 0.5 to 0.12.3 and still
#: defines on its main branch (there as ``"head": {"out_channels", "kernel_size": 1, "bias"}``, the same net).
PRESETS = {
    "standard": {"layers": [_array(1, 16, 8, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], False),
                            _array(16, 8, 1, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], True)],
                 "head_scale": 0.02},
    "lite": {"layers": [_array(1, 12, 6, _FIRST, False), _array(12, 6, 1, _SECOND, True)], "head_scale": 0.02},
    "feather": {"layers": [_array(1, 8, 4, _FIRST, False), _array(8, 4, 1, _SECOND, True)], "head_scale": 0.02},
}


def _int(value, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{what} must be a whole number of at least {low} (got {value!r}).")
    return value


def _layer_config(cfg: dict, i: int) -> dict:
    """A complete, validated copy of one layer-array config (the nine keys of the 0.5.4 schema)."""
    if not isinstance(cfg, dict):
        raise ValueError(f"Layer array {i} must be a dict of NAM layer-array settings.")
    unknown = set(cfg) - set(_REQUIRED) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"Layer array {i}: the 0.5.4 .nam schema has no {', '.join(sorted(unknown))} "
                         f"(it has {', '.join(_REQUIRED + tuple(_DEFAULTS))}).")
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"Layer array {i} needs {', '.join(missing)}.")
    out = {**_DEFAULTS, **copy.deepcopy(cfg)}
    for key in ("input_size", "condition_size", "head_size", "channels", "kernel_size"):
        _int(out[key], f"Layer array {i}: {key}")
    if not isinstance(out["dilations"], (list, tuple)) or not out["dilations"]:
        raise ValueError(f"Layer array {i}: dilations must be a non-empty list.")
    out["dilations"] = [_int(d, f"Layer array {i}: a dilation") for d in out["dilations"]]
    if out["activation"] not in ACTIVATIONS:
        raise ValueError(f"Layer array {i}: activation must be one of {', '.join(ACTIVATIONS)} "
                         f"(got {out['activation']!r}).")
    for key in ("gated", "head_bias"):
        if not isinstance(out[key], bool):
            raise ValueError(f"Layer array {i}: {key} must be true or false.")
    if out["condition_size"] != 1:
        raise ValueError(f"Layer array {i}: condition_size must be 1 (the condition is the mono input).")
    return out


class _LayerArray(nn.Module):
    """One NAM layer array; parameters in the order NAM exports them (see ``core.effects.nam.wavenet_weights``)."""

    def __init__(self, cfg: dict):
        super().__init__()
        c, mid = cfg["channels"], cfg["channels"] * (2 if cfg["gated"] else 1)
        self.channels, self.gated, self.dilations = c, cfg["gated"], list(cfg["dilations"])
        self.activation = ACTIVATIONS[cfg["activation"]]
        self.rechannel = nn.Conv1d(cfg["input_size"], c, 1, bias=False)
        self.convs = nn.ModuleList(nn.Conv1d(c, mid, cfg["kernel_size"], dilation=d) for d in self.dilations)
        self.mixins = nn.ModuleList(nn.Conv1d(cfg["condition_size"], mid, 1, bias=False) for _ in self.dilations)
        self.one_by_ones = nn.ModuleList(nn.Conv1d(c, c, 1) for _ in self.dilations)
        self.head_rechannel = nn.Conv1d(c, cfg["head_size"], 1, bias=cfg["head_bias"])
        self.receptive_field = 1 + (cfg["kernel_size"] - 1) * sum(self.dilations)

    def forward(self, x, cond, head=None, residual: bool = True):
        """x: (B, input_size, L) aligned at the end with cond (B, 1, >= L); head: the previous array's head
        output or None. Returns (head output, layer output), both L - (receptive_field - 1) long; the layer
        output is None when ``residual`` is False (the last array's, which nothing reads)."""
        out_len = x.shape[-1] - (self.receptive_field - 1)
        x = self.rechannel(x)
        last = len(self.convs) - 1
        for i, (conv, mixin, one) in enumerate(zip(self.convs, self.mixins, self.one_by_ones)):
            z = conv(x)
            z = z + mixin(cond[..., -z.shape[-1]:])
            if self.gated:
                a = self.activation(z[:, : self.channels]) * torch.sigmoid(z[:, self.channels :])
            else:
                a = self.activation(z)
            term = a[..., -out_len:]
            head = term if head is None else head[..., -out_len:] + term
            if residual or i < last:
                x = x[..., -a.shape[-1]:] + one(a)
        return self.head_rechannel(head), (x[..., -out_len:] if residual else None)


class NAMWaveNet(nn.Module):
    """Neural Amp Modeler's WaveNet (presets "standard", "lite", "feather", or NAM layer-array configs), weight
    for weight: ``core.effects.nam.to_nam_dict`` writes it as a 0.5.4 ``.nam`` file every NAM plugin loads.

    ``layers`` (a list of NAM layer-array dicts: input_size, condition_size, head_size, channels, kernel_size,
    dilations, activation, gated, head_bias; NAM's defaults activation "Tanh", gated true, head_bias true)
    replaces the preset's arrays, ``head_scale`` its 0.02 (with ``preset=None``, layers alone). The
    constructor's arguments are plain JSON, so a model folder's config.json rebuilds it.
    """

    stateful = False

    def __init__(self, preset: str | None = "standard", layers: list[dict] | None = None,
                 head_scale: float | None = None):
        super().__init__()
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"Unknown NAM WaveNet preset {preset!r}; choose one of {', '.join(PRESETS)} "
                             "or give layers=[...].")
        if layers is None:
            if preset is None:
                raise ValueError("Give a preset or layers=[...].")
            layers = PRESETS[preset]["layers"]
        if head_scale is None:
            head_scale = PRESETS[preset]["head_scale"] if preset is not None else 0.02
        if not isinstance(layers, (list, tuple)) or not layers:
            raise ValueError("layers must be a non-empty list of NAM layer-array configs.")
        if isinstance(head_scale, bool) or not isinstance(head_scale, (int, float)):
            raise ValueError(f"head_scale must be a number (got {head_scale!r}).")
        self.layers_config = [_layer_config(cfg, i) for i, cfg in enumerate(layers)]
        cfgs = self.layers_config
        if cfgs[0]["input_size"] != 1:
            raise ValueError("The first layer array's input_size must be 1 (mono audio in).")
        for i in range(1, len(cfgs)):
            if cfgs[i]["input_size"] != cfgs[i - 1]["channels"]:
                raise ValueError(f"Layer array {i}: input_size must be the previous array's channels "
                                 f"({cfgs[i - 1]['channels']}), its layer output.")
            if cfgs[i]["channels"] != cfgs[i - 1]["head_size"]:
                raise ValueError(f"Layer array {i}: channels must be the previous array's head_size "
                                 f"({cfgs[i - 1]['head_size']}): its head output is added to this array's.")
        if cfgs[-1]["head_size"] != 1:
            raise ValueError("The last layer array's head_size must be 1 (mono audio out).")
        self.head_scale = float(head_scale)
        self.arrays = nn.ModuleList(_LayerArray(cfg) for cfg in cfgs)
        #: Samples the output depends on, the current one included (NAM's convention; ``run_model`` reads this
        #: much context before each chunk).
        self.receptive_field = 1 + sum(a.receptive_field - 1 for a in self.arrays)

    def forward(self, x, cond=None):
        """(batch, samples) -> (batch, samples). No knobs: ``cond`` is ignored (NAM conditions on the input)."""
        audio = F.pad(x, (self.receptive_field - 1, 0)).unsqueeze(1)  # silence before the first sample
        y, head, last = audio, None, len(self.arrays) - 1
        for i, array in enumerate(self.arrays):
            head, y = array(y, audio, head, residual=i < last)
        return self.head_scale * head[:, 0]
