"""The emulation models. All map dry (batch, samples) -> wet (batch, samples) at 44.1 kHz.

Networks trained by gradient descent (``train.fit_network``):
  * ``BaselineCNN`` - the paper's model: convolutions + ReLU, max pooling, dense layers that predict one
    output sample from a window of input. Written fully convolutionally (pooling with stride 1, the dense
    layers as dilated/1x1 convolutions) so it gives exactly the per-window prediction for every sample at once.
  * ``LSTMSkip`` - Wright et al.: one small LSTM, a linear output and a skip connection from the input.
  * ``TCN`` - dilated causal convolutions with FiLM conditioning on the effect's knobs.
  * ``WienerHammerstein`` - FIR -> learned static nonlinearity (a tiny MLP per sample) -> FIR: the block
    structure of an amp (pre-EQ, drive, tone stack + cabinet), so a few thousand parameters suffice.

Structured models for the frequency and time families (fitted in closed form or by a few hundred steps):
  * ``LearnedFIR`` - a long FIR (an impulse response) fitted by least squares in the frequency domain.
  * ``TappedDelay`` - a delay line with learned period and per-echo tap gains (feedback echo = taps at kD).
  * ``ModulatedDelay`` - dry + a delay line read at centre + depth * sin(LFO): the chorus, LFO learned.
  * ``OctaveDivider`` - an analog-style octave-down: a flip-flop toggling on every other zero crossing
    halves the frequency; a learned FIR shapes the divided signal's spectrum to the effect's.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _causal_conv(x: torch.Tensor, w: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    pad = (w.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (pad, 0)), w, dilation=dilation)


class BaselineCNN(nn.Module):
    """The paper's CNN: conv-ReLU-conv-ReLU, max pool, 3 dense layers; output = f(last ``window`` input samples)."""

    stateful = False

    def __init__(self, window: int = 64, channels: int = 8, kernel: int = 5, pool: int = 4, hidden: int = 32):
        super().__init__()
        self.window, self.pool = window, pool
        self.conv1 = nn.Conv1d(1, channels, kernel)
        self.conv2 = nn.Conv1d(channels, channels, kernel)
        n_pooled = (window - 2 * (kernel - 1)) // pool
        # Dense layer over the pooled window == a conv with dilation `pool` over stride-1 pooled features.
        self.fc1 = nn.Conv1d(channels, hidden, n_pooled, dilation=pool)
        self.fc2 = nn.Conv1d(hidden, hidden, 1)
        self.fc3 = nn.Conv1d(hidden, 1, 1)
        self.receptive_field = window

    def forward(self, x, cond=None):
        h = F.pad(x.unsqueeze(1), (self.window - 1, 0))
        h = F.relu(self.conv2(F.relu(self.conv1(h))))
        h = F.max_pool1d(h, self.pool, stride=1)
        h = F.relu(self.fc1(h))
        out = self.fc3(F.relu(self.fc2(h))).squeeze(1)
        return out[..., -x.shape[-1]:]


def with_knobs(features: torch.Tensor, cond, n_cond: int) -> torch.Tensor:
    """(batch, samples, f) per-sample features with the (batch, n_cond) knob vector appended to every sample."""
    if not n_cond:
        return features
    if cond is None:
        raise ValueError("This model is conditioned on knobs; pass cond.")
    return torch.cat([features, cond[:, None, :].expand(-1, features.shape[1], -1)], -1)


class LSTMSkip(nn.Module):
    """Wright et al. 2020: y = Linear(LSTM(x)) + x; with ``n_cond`` knobs, the (normalised) knob values are extra
    inputs at every sample (Wright et al.'s conditioned LSTM)."""

    stateful = True
    receptive_field = 0

    def __init__(self, hidden: int = 32, n_cond: int = 0):
        super().__init__()
        self.n_cond = n_cond
        self.lstm = nn.LSTM(1 + n_cond, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, cond=None, state=None, return_state=False):
        h, state = self.lstm(with_knobs(x.unsqueeze(-1), cond, self.n_cond), state)
        y = self.out(h).squeeze(-1) + x
        return (y, state) if return_state else y


class GainLSTM(LSTMSkip):
    """A compressor's own shape: y = x * exp(g), the gain g read by an LSTM from the input's level in dB and the
    knobs (normalised 0-1). The network learns the detector (attack, release) and the gain curve (threshold,
    ratio) but never has to rebuild the waveform, so where the compressor does nothing it passes the input
    exactly (g = 0)."""

    def __init__(self, hidden: int = 32, n_cond: int = 0):
        super().__init__(hidden, n_cond)  # the same LSTM and head as LSTMSkip; only the output differs
        with torch.no_grad():  # start as a wire: unit gain
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x, cond=None, state=None, return_state=False):
        level = (20 * torch.log10(x.abs() + 1e-4) / 40 + 1).unsqueeze(-1)  # dBFS / 40 + 1: about -1..1
        h, state = self.lstm(with_knobs(level, cond, self.n_cond), state)
        y = x * torch.exp(self.out(h).squeeze(-1))
        return (y, state) if return_state else y


class NAMLSTM(nn.Module):
    """Neural Amp Modeler's LSTM, weight for weight, so a capture exports to a ``.nam`` file the NAM plugin loads
    (``core.effects.nam``): y = Linear(LSTM(x)), no skip, started from a stored state (NAM's "1x16", "2x8")."""

    stateful = True
    receptive_field = 0

    def __init__(self, hidden_size: int = 16, num_layers: int = 1):
        super().__init__()
        self.core = nn.LSTM(1, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)
        # Where inference starts: NAM stores the state after 48,000 silent samples (core.effects.nam.settle).
        self.initial_hidden = nn.Parameter(torch.zeros(num_layers, hidden_size), requires_grad=False)
        self.initial_cell = nn.Parameter(torch.zeros(num_layers, hidden_size), requires_grad=False)

    def forward(self, x, cond=None, state=None, return_state=False):
        if state is None:
            n = x.shape[0]
            state = (self.initial_hidden[:, None].expand(-1, n, -1).contiguous(),
                     self.initial_cell[:, None].expand(-1, n, -1).contiguous())
        h, state = self.core(x.unsqueeze(-1), state)
        y = self.head(h).squeeze(-1)
        return (y, state) if return_state else y


class TCN(nn.Module):
    """Dilated causal convolutions (kernel 3, dilations 1..2^(L-1)), tanh, FiLM from the knobs, 1x1 residuals."""

    stateful = False

    def __init__(self, channels: int = 8, layers: int = 8, kernel: int = 3, n_cond: int = 1):
        super().__init__()
        self.n_cond = n_cond
        self.inp = nn.Conv1d(1, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel) for _ in range(layers))
        self.mix = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in range(layers))
        self.dilations = [2**i for i in range(layers)]
        # FiLM: each layer's pre-activation is scaled and shifted by functions of the (normalised) knobs.
        self.film = nn.Sequential(nn.Linear(max(n_cond, 1), 16), nn.Tanh(),
                                  nn.Linear(16, 2 * channels * layers)) if n_cond else None
        self.out = nn.Conv1d(channels * layers, 1, 1)
        self.receptive_field = 1 + (kernel - 1) * sum(self.dilations)

    def forward(self, x, cond=None):
        h = self.inp(x.unsqueeze(1))
        if self.film is not None:
            if cond is None:
                raise ValueError("This model is conditioned on knobs; pass cond.")
            gb = self.film(cond).view(x.shape[0], len(self.convs), 2, -1, 1)
        skips = []
        for i, (conv, mix, d) in enumerate(zip(self.convs, self.mix, self.dilations)):
            z = _causal_conv(h, conv.weight, d) + conv.bias[:, None]
            if self.film is not None:
                z = z * (1 + gb[:, i, 0]) + gb[:, i, 1]
            z = torch.tanh(z)
            skips.append(z)
            h = h + mix(z)
        return self.out(torch.cat(skips, 1)).squeeze(1) + x


class WienerHammerstein(nn.Module):
    """FIR (pre-emphasis / input EQ) -> per-sample MLP (the drive curve) -> FIR (tone stack + cabinet).

    Conditioned the way the amp is built: the drive knob is an input gain in dB before the nonlinearity (exactly
    where the real amp's drive sits), and a tone knob moves the output FIR along a polynomial in the knob,
    post = h0 + t h1 + t^2 h2 (a shelf's gain is smooth in its knob, so two terms cover its range).
    """

    stateful = False

    def __init__(self, pre_taps: int = 64, post_taps: int = 1024, hidden: int = 16, drive_range=None,
                 tone_terms: int = 0):
        super().__init__()
        self.drive_range = tuple(drive_range) if drive_range else None
        self.pre = nn.Parameter(torch.zeros(1, 1, pre_taps))
        self.post = nn.Parameter(torch.zeros(1, 1, post_taps))
        with torch.no_grad():  # start as identity FIRs (taps are time-reversed for conv1d)
            self.pre[..., -1] = 1.0
            self.post[..., -1] = 1.0
        self.post_tone = nn.Parameter(torch.zeros(tone_terms, post_taps)) if tone_terms else None
        self.shaper = nn.Sequential(nn.Conv1d(1, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, hidden, 1), nn.Tanh(),
                                    nn.Conv1d(hidden, 1, 1))
        self.receptive_field = pre_taps + post_taps

    def forward(self, x, cond=None):
        conditioned = self.drive_range is not None or self.post_tone is not None
        if conditioned and cond is None:
            raise ValueError("This model is conditioned on knobs; pass cond.")
        u = _causal_conv(x.unsqueeze(1), self.pre)
        i = 0
        if self.drive_range is not None:  # dB relative to the middle of the range, so training starts near unit gain
            lo, hi = self.drive_range
            drive_db = (cond[:, 0] - 0.5) * (hi - lo)
            u = u * (10 ** (drive_db / 20))[:, None, None]
            i = 1
        v = self.shaper(u).squeeze(1)
        post = self.post.flip(-1).reshape(1, -1)
        if self.post_tone is not None:
            t = cond[:, i : i + 1]
            powers = torch.cat([t ** (j + 1) for j in range(self.post_tone.shape[0])], 1)  # (B, terms)
            post = post + powers @ self.post_tone.flip(-1)
        if post.shape[-1] > 256 or post.shape[0] > 1:  # long FIRs are cheaper by FFT
            return fft_convolve(v, post if post.shape[0] > 1 else post[0])
        return _causal_conv(v.unsqueeze(1), self.post).squeeze(1)


def fft_convolve(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Causal linear convolution of (B, T) with an IR (taps,) or one IR per row (B, taps), truncated to T samples."""
    n = x.shape[-1] + h.shape[-1] - 1
    nfft = 1 << (n - 1).bit_length()
    y = torch.fft.irfft(torch.fft.rfft(x, nfft) * torch.fft.rfft(h.to(x.dtype), nfft), nfft)
    return y[..., : x.shape[-1]]


class LearnedFIR(nn.Module):
    """y = h * x with a long learned impulse response (stored as float16 to keep reverbs small)."""

    stateful = False

    def __init__(self, taps: int = 2048):
        super().__init__()
        self.register_buffer("ir", torch.zeros(taps, dtype=torch.float16))
        self.receptive_field = taps

    def forward(self, x, cond=None):
        return fft_convolve(x, self.ir.float())


class TappedDelay(nn.Module):
    """y[n] = sum_k tap[k] * x[n - k * period]: a feedback echo unrolled into its echoes (tap[0] = dry)."""

    stateful = False

    def __init__(self, n_taps: int = 12):
        super().__init__()
        self.register_buffer("period", torch.zeros((), dtype=torch.int64))
        self.taps = nn.Parameter(torch.zeros(n_taps))
        self.receptive_field = 0

    @property
    def context(self) -> int:
        """Past samples an output depends on: the last echo's delay."""
        return (len(self.taps) - 1) * int(self.period)

    def forward(self, x, cond=None):
        y = self.taps[0] * x
        p = int(self.period)
        for k in range(1, len(self.taps)):
            if k * p >= x.shape[-1] or p == 0:
                break
            y = y + self.taps[k] * F.pad(x, (k * p, 0))[..., : x.shape[-1]]
        return y


def delayed(x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """x read at n - d[n] (fractional, linear interpolation; zero before the start). d: (T,) samples."""
    # float64 positions: in float32 an index near 2^17 is only known to 1/64 of a sample, and the interpolation
    # (and a streamed file's chunks) would drift from the exact delay.
    pos = torch.arange(x.shape[-1], dtype=torch.float64) - d.double()
    i0 = torch.floor(pos)
    frac = (pos - i0).to(x.dtype)
    i0 = i0.long()
    xp = F.pad(x, (1, 0))  # index 0 = the zero before the start
    a = xp[..., (i0 + 1).clamp(0, x.shape[-1])] * (i0 >= 0)
    b = xp[..., (i0 + 2).clamp(0, x.shape[-1])] * (i0 + 1 >= 0)
    return a * (1 - frac) + b * frac


class ModulatedDelay(nn.Module):
    """Chorus: y = dry * x + wet * x[n - (centre + depth * sin(2 pi rate n / sr + phase))].

    Conditioned (``rate_range`` and ``depth_range`` given), the LFO takes the knobs directly: its rate is the
    rate knob times a learned scale (1 for a calibrated effect) and its depth in samples the depth knob times a
    learned samples-per-unit; centre, phase and the dry/wet gains are learned.
    """

    stateful = False
    receptive_field = 0
    absolute_time = True  # the LFO's phase depends on the sample index: streamed chunks pass their offset

    def __init__(self, sr: int = 44_100, rate_range=None, depth_range=None):
        super().__init__()
        self.sr = sr
        self.rate_range = tuple(rate_range) if rate_range else None
        self.depth_range = tuple(depth_range) if depth_range else None
        self.dry = nn.Parameter(torch.tensor(1.0))
        self.wet = nn.Parameter(torch.tensor(0.0))
        self.centre = nn.Parameter(torch.tensor(300.0))  # samples
        self.depth = nn.Parameter(torch.tensor(50.0))  # samples (conditioned: samples per unit of the depth knob)
        self.rate = nn.Parameter(torch.tensor(1.0))  # Hz (conditioned: a scale on the rate knob)
        self.phase = nn.Parameter(torch.tensor(0.0))

    @property
    def conditioned(self) -> bool:
        return self.rate_range is not None

    def lfo(self, c=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(rate in Hz, depth in samples) at knob vector ``c`` (normalised rate, depth)."""
        if not self.conditioned:
            return self.rate, self.depth
        if c is None:
            raise ValueError("This model is conditioned on knobs; pass cond.")
        (r0, r1), (d0, d1) = self.rate_range, self.depth_range
        return self.rate * (r0 + c[0] * (r1 - r0)), self.depth * (d0 + c[1] * (d1 - d0))

    @property
    def context(self) -> int:
        """Past samples an output depends on: the longest delay, plus the interpolation's neighbour."""
        depth = float(self.depth.abs()) * (self.depth_range[1] if self.conditioned else 1.0)
        return int(math.ceil(float(self.centre.abs()) + depth)) + 2

    def delay_track(self, n: int, offset: int = 0, c=None) -> torch.Tensor:
        rate, depth = self.lfo(c)
        t = (torch.arange(n, dtype=torch.float64) + offset) / self.sr
        return (self.centre + depth * torch.sin(2 * math.pi * rate * t + self.phase)).float()

    def forward(self, x, cond=None, offset: int = 0):
        if not self.conditioned:
            return self.dry * x + self.wet * delayed(x, self.delay_track(x.shape[-1], offset))
        if cond is None:
            raise ValueError("This model is conditioned on knobs; pass cond.")
        wet = torch.stack([delayed(x[b], self.delay_track(x.shape[-1], offset, c)) for b, c in enumerate(cond)])
        return self.dry * x + self.wet * wet


def flip_flop(x: np.ndarray, sr: int = 44_100, smooth_hz: float = 1000.0, hysteresis: float = 0.01) -> np.ndarray:
    """+-1 square wave that toggles on every other rising zero crossing of a smoothed ``x`` (frequency / 2)."""
    from scipy.signal import lfilter

    a = math.exp(-2 * math.pi * smooth_hz / sr)
    s = lfilter([1 - a], [1, -a], np.asarray(x, np.float64))
    s = lfilter([1 - a], [1, -a], s)
    # Rising crossings of +hysteresis that followed a dip below -hysteresis (a Schmitt trigger, vectorised).
    state = np.where(s > hysteresis, 1, np.where(s < -hysteresis, -1, 0))
    idx = np.flatnonzero(state)
    held = np.zeros_like(state)
    if idx.size:
        held = state[idx][np.maximum(np.searchsorted(idx, np.arange(len(s)), side="right") - 1, 0)]
        held[: idx[0]] = 0
    rising = np.flatnonzero((held[1:] == 1) & (held[:-1] == -1)) + 1
    toggles = np.zeros(len(s), np.int64)
    toggles[rising] = 1
    return (1 - 2 * (np.cumsum(toggles) % 2)).astype(np.float32)


class OctaveDivider(nn.Module):
    """y = h * (|x| . s), s = flip_flop(x): a full-wave rectified signal whose sign flips at half the pitch."""

    stateful = False
    context = None  # the flip-flop's parity depends on the whole past: one pass, not streamed

    def __init__(self, taps: int = 255, sr: int = 44_100):
        super().__init__()
        self.sr = sr
        self.fir = nn.Parameter(torch.zeros(taps))
        self.receptive_field = taps

    def features(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.from_numpy(np.stack([flip_flop(row, self.sr) for row in x.detach().cpu().numpy()])).to(x)
        return x.abs() * s

    def forward(self, x, cond=None):
        return _causal_conv(self.features(x).unsqueeze(1), self.fir.flip(-1).view(1, 1, -1)).squeeze(1)


def grid_weights(axes, c) -> list[tuple[int, float]]:
    """Multilinear interpolation on a grid: (flat index, weight) of the corners around the point ``c``.

    ``axes`` are the grid's coordinates per knob (ascending, in normalised 0-1 knob units); ``c`` is one knob
    vector. Points outside the grid take its edge.
    """
    corners = [(0, 1.0)]
    stride = 1
    for axis, v in reversed(list(zip(axes, [float(v) for v in c]))):
        a = np.asarray(axis, np.float64)
        if len(a) == 1:
            pairs = [(0, 1.0)]
        else:
            v = min(max(v, a[0]), a[-1])
            i = int(min(max(np.searchsorted(a, v, side="right") - 1, 0), len(a) - 2))
            f = (v - a[i]) / (a[i + 1] - a[i])
            pairs = [(i, 1.0 - f), (i + 1, f)]
        corners = [(j * stride + k, w * u) for k, w in corners for j, u in pairs if u > 0]
        stride *= len(a)
    return corners


class FIRBank(nn.Module):
    """A learned impulse response per point of a knob grid, read by multilinear interpolation between the
    neighbouring points: a linear time-invariant effect at any knob setting is an FIR, and its IR moves smoothly
    with the knobs (the filters' cutoff and resonance, the reverb's room size and damping)."""

    stateful = False

    def __init__(self, taps: int = 4096, axes=((0.0,),)):
        super().__init__()
        self.axes = [list(map(float, a)) for a in axes]
        self.register_buffer("irs", torch.zeros(int(np.prod([len(a) for a in self.axes])), taps, dtype=torch.float16))
        self.receptive_field = taps

    def impulse_response(self, c) -> torch.Tensor:
        return sum(w * self.irs[i].float() for i, w in grid_weights(self.axes, c))

    def forward(self, x, cond=None):
        if cond is None:
            raise ValueError("This model is conditioned on knobs; pass cond.")
        h = torch.stack([self.impulse_response(c) for c in cond])
        return fft_convolve(x, h)


class DelayBank(nn.Module):
    """A feedback echo whose delay time is a knob read directly (the period in samples) and whose echo gains
    are interpolated along a grid of the feedback knob: y[n] = sum_k tap_k(fb) x[n - k round(time * sr)]."""

    stateful = False

    def __init__(self, n_taps: int = 12, time_range=(0.05, 1.0), axes=((0.0,),), sr: int = 44_100):
        super().__init__()
        self.time_range, self.sr = tuple(time_range), sr
        self.axes = [list(map(float, a)) for a in axes]
        self.taps = nn.Parameter(torch.zeros(len(self.axes[0]), n_taps))
        self.receptive_field = 0

    @property
    def context(self) -> int:
        """Past samples an output depends on: the last echo at the longest delay time."""
        return (self.taps.shape[1] - 1) * int(math.ceil(self.time_range[1] * self.sr)) + 1

    def period(self, c) -> int:
        lo, hi = self.time_range
        return int(round((lo + float(c[0]) * (hi - lo)) * self.sr))

    def gains(self, c) -> torch.Tensor:
        return sum(w * self.taps[i] for i, w in grid_weights(self.axes, c[1:]))

    def forward(self, x, cond=None):
        if cond is None:
            raise ValueError("This model is conditioned on knobs; pass cond.")
        rows = []
        for b, c in enumerate(cond):
            p, g = self.period(c), self.gains(c)
            y = g[0] * x[b]
            for k in range(1, len(g)):
                if k * p >= x.shape[-1]:
                    break
                y = y + g[k] * F.pad(x[b], (k * p, 0))[: x.shape[-1]]
            rows.append(y)
        return torch.stack(rows)


class PhaseVocoderShift(nn.Module):
    """A polyphonic pitch shifter: the streaming phase vocoder of ``core.effects.vocoder`` (frequency-axis
    resampling of each frame, instantaneous-frequency phase integration), conditioned on semitones directly, with a
    learned output spectrum per semitone (log gain per bin, fitted to the effect's, interpolated between whole
    semitones) so its tone and level follow the real shifter's."""

    stateful = True
    receptive_field = 0

    def __init__(self, semitone_range=(-12.0, 12.0), phase_lock: bool = False):
        super().__init__()
        from core.effects import vocoder

        self.vocoder = vocoder
        self.semitone_range = tuple(float(v) for v in semitone_range)
        lo, hi = self.semitone_range
        self.semitones = [float(s) for s in np.arange(math.ceil(lo), math.floor(hi) + 1)]
        self.phase_lock = bool(phase_lock)
        self.register_buffer("log_gain", torch.zeros(len(self.semitones), vocoder.N_FFT // 2 + 1))
        self.latency = vocoder.N_FFT - vocoder.HOP  # the output is whole hops late; run_model removes it,
        self.flush = vocoder.N_FFT  # feeding this much silence more to push the last samples out

    def shift_of(self, c) -> float:
        lo, hi = self.semitone_range
        return lo + float(c[0]) * (hi - lo)

    def gain(self, semitones: float) -> np.ndarray:
        axis = [(s - self.semitone_range[0]) / (self.semitone_range[1] - self.semitone_range[0])
                for s in self.semitones]
        c = [(semitones - self.semitone_range[0]) / (self.semitone_range[1] - self.semitone_range[0])]
        return np.exp(sum(w * self.log_gain[i].double().numpy() for i, w in grid_weights([axis], c)))

    def forward(self, x, cond=None, state=None, return_state=False):
        if cond is None:
            raise ValueError("This model is conditioned on semitones; pass cond.")
        states = state or [self.vocoder.VocoderState() for _ in range(x.shape[0])]
        rows = []
        for b, row in enumerate(x.detach().cpu().numpy()):
            s = self.shift_of(cond[b])
            rows.append(self.vocoder.pitch_shift_chunk(row, 2 ** (s / 12), states[b], self.gain(s), self.phase_lock))
        y = torch.from_numpy(np.stack(rows)).to(x.dtype)
        return (y, states) if return_state else y


from core.effects.nam_wavenet import NAMWaveNet  # noqa: E402 (Neural Amp Modeler's WaveNet, weight for weight)

KINDS = {
    "cnn": BaselineCNN,
    "lstm": LSTMSkip,
    "gain_lstm": GainLSTM,
    "nam_lstm": NAMLSTM,
    "nam_wavenet": NAMWaveNet,
    "tcn": TCN,
    "wh": WienerHammerstein,
    "fir": LearnedFIR,
    "taps": TappedDelay,
    "chorus": ModulatedDelay,
    "octave": OctaveDivider,
    "fir_bank": FIRBank,
    "delay_bank": DelayBank,
    "vocoder": PhaseVocoderShift,
}


def build(kind: str, **kwargs) -> nn.Module:
    if kind not in KINDS:
        raise ValueError(f"Unknown model {kind!r}; choose one of {', '.join(KINDS)}.")
    return KINDS[kind](**kwargs)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.state_dict().values())


#: What each kind is and why it fits its effects: the note on every card.
NOTES = {
    "tcn": "Dilated causal TCN with FiLM: the drive knob (normalised to 0-1 over its range) scales and shifts every "
           "layer, so one model covers the whole range of the knob. Trained on 1 CPU thread.",
    "lstm": "Wright et al.'s LSTM with a skip connection, trained with a no-gradient warm-up before each excerpt "
            "(truncated backpropagation); the knobs (normalised to 0-1) are extra inputs at every sample, and every "
            "excerpt is rendered at a random setting (a range end one time in five). Scaled down for CPU (Wright et "
            "al. use hidden 32-96): fuzz hidden 32 for 10000 steps, compression hidden 48 for 16000 steps of batch "
            "8 x 2048 samples on one thread.",
    "gain_lstm": "A gain computer with memory, the compressor's own shape: y = x * exp(g), g from an LSTM reading the "
                 "input level in dB and the knobs (threshold, ratio, attack, release, normalised 0-1), so the network "
                 "learns the detector and the gain curve, not the waveform, and passes the input exactly where the "
                 "compressor does nothing. Trained like the LSTM (warm-up, random knob settings per excerpt; scaled "
                 "down for CPU: hidden 32, 12000 steps of batch 8 x 2048 on one thread).",
    "wh": "Wiener-Hammerstein: learned input FIR -> per-sample MLP (drive) -> learned 1024-tap output FIR (tone stack "
          "+ cabinet). The paper's CNN failed on amp simulation; this structure is the amp's own signal chain. The "
          "drive knob is an input gain in dB before the MLP (where the amp's drive sits) and the tone knob moves the "
          "output FIR along a quadratic in the knob.",
    "fir": "A learned impulse response: the least-squares (Wiener) solution over all training audio, truncated and "
           "stored in float16. The paper's LSTM output silence on reverb; a linear time-invariant effect is exactly an "
           "FIR, so this is the right structure (reverb: 1.5 s = 66150 taps; the ladder filter: 4096).",
    "taps": "A delay line with a learned period (the cross-correlation peak) and learned echo gains (least squares): "
            "a feedback echo is a train of echoes at multiples of the period, so 12 taps model ~4 s of repeats.",
    "chorus": "A modulated delay with a learned sinusoidal LFO: the delay track is measured window by window on a 10 s "
              "white-noise probe rendered through the effect (the lag that best explains wet ~ a dry + b dry[n-d]), a "
              "sinusoid is fitted to it, and dry/wet gains, centre, depth, rate and phase are refined by Adam on the "
              "waveform. The rate and depth knobs drive the LFO directly (rate x a learned scale, depth x learned "
              "samples per unit), refined over renders at random settings.",
    "octave": "An octave divider: a Schmitt-trigger flip-flop on the smoothed input gives a square wave s at half the "
              "pitch; y = h * (|x| s) with a 255-tap minimum-phase FIR h fitted so the output's long-term spectrum "
              "matches the effect's (Welch PSD ratio). The pitch shifter's phase is unpredictable, so a waveform fit "
              "would only shrink the output. Monophonic by nature, like analog octave pedals.",
    "fir_bank": "A bank of learned impulse responses, one per point of a grid over the knobs, each the least-squares "
                "(Wiener) solution for the real effect rendered at that setting; between grid points the IR is "
                "interpolated multilinearly. A linear time-invariant effect at one setting is exactly an FIR, and its "
                "IR moves smoothly with the knobs (filters: 17 cutoffs x 5 resonances, 4096 taps; reverb: 5 room sizes "
                "x 3 dampings, 1.5 s), stored in float16.",
    "delay_bank": "A delay line read at the time knob directly (period = time x sample rate) with echo gains fitted by "
                  "least squares at 9 feedback settings and interpolated between them: a feedback echo is a train of "
                  "echoes at multiples of the period, 12 taps model its repeats.",
    "vocoder": "A polyphonic phase-vocoder pitch shifter conditioned on semitones directly: each STFT frame (2048 / "
               "hop 512) is resampled along frequency by 2^(s/12), each bin's instantaneous frequency is scaled and "
               "integrated, with identity phase locking (Laroche & Dolson), and a learned output tone per whole "
               "semitone (log gain per bin matched to the real shifter's long-term spectrum, level kept) is "
               "interpolated between semitones. Streams with its phase state; chosen over the octave divider and "
               "librosa's shifter by measurement on real chords and mixes (docs/effects.md).",
    "nam_lstm": "Neural Amp Modeler's LSTM architecture, weight for weight (no skip, a linear head, a stored starting "
                "state), trained here with the same loss as the other networks; it exports to a .nam file that the "
                "NAM plugin loads.",
    "nam_wavenet": "Neural Amp Modeler's WaveNet (its standard, lite and feather presets), weight for weight: two "
                   "stacks of gated dilated convolutions with a summed head, trained here with the same loss as the "
                   "other networks; it exports to a .nam file (0.5.4 schema) that the NAM plugin loads.",
    "cnn": "The paper's baseline CNN (2 conv + ReLU, max pool, 3 dense) predicting each sample from the last 64 input "
           "samples; kept for comparison.",
}
