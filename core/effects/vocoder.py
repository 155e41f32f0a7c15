"""A streaming phase-vocoder pitch shifter (polyphonic), the signal path of ``models.PhaseVocoderShift``.

Each STFT frame's spectrum is resampled along frequency by the ratio r = 2^(semitones/12) (bin k of the output
reads bin k/r of the input), and the phase is taken care of the phase-vocoder way: every bin's instantaneous
frequency is measured from the frame-to-frame phase advance, scaled by r, and integrated, with identity phase
locking (Laroche & Dolson 1999) so the bins around a spectral peak keep their relative phases (less "phasiness"
on chords than bin-by-bin integration; ``tests/test_effects.py`` and the card measure both).

Everything is carried in a :class:`VocoderState`, so a long file processed chunk by chunk gives the samples one
pass would. Shapes: audio (samples,), spectra (frames, bins).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

N_FFT = 2048
HOP = 512  # 75 % overlap: Hann analysis and synthesis windows sum to a constant (1.5) at this hop


def princarg(phase: np.ndarray) -> np.ndarray:
    """Wrap phases to [-pi, pi)."""
    return (phase + np.pi) % (2 * np.pi) - np.pi


@dataclass
class VocoderState:
    """What one chunk hands the next: unframed input, the overlap-add tail and both phase tracks."""

    pending: np.ndarray = field(default_factory=lambda: np.zeros(N_FFT - HOP, np.float64))  # starts with the lead-in
    tail: np.ndarray = field(default_factory=lambda: np.zeros(N_FFT - HOP, np.float64))
    last_phase: np.ndarray | None = None  # input phase of the previous frame
    out_phase: np.ndarray | None = None  # synthesis phase of the previous frame


def _peaks(mag: np.ndarray) -> np.ndarray:
    """Boolean mask of local maxima over the two neighbours each side (Laroche & Dolson's peak picking)."""
    p = np.pad(mag, 2)
    return (mag >= p[:-4]) & (mag >= p[1:-3]) & (mag > p[3:-1]) & (mag > p[4:])


def shift_frames(spec: np.ndarray, ratio: float, state: VocoderState, phase_lock: bool = True) -> np.ndarray:
    """Pitch-shift a run of STFT frames (frames, bins) by ``ratio``; updates ``state``'s phase tracks."""
    n_bins = spec.shape[1]
    k = np.arange(n_bins)
    omega = 2 * np.pi * k * HOP / N_FFT  # expected phase advance per hop at each bin centre
    src = k / ratio  # where output bin k reads the input
    valid = src <= n_bins - 1
    i0 = np.minimum(np.floor(src).astype(int), n_bins - 2)
    frac = np.clip(src - i0, 0.0, 1.0)
    near = np.minimum(np.rint(src).astype(int), n_bins - 1)
    out = np.zeros_like(spec)
    for t in range(spec.shape[0]):
        mag_in, ph_in = np.abs(spec[t]), np.angle(spec[t])
        if state.last_phase is None:  # the stream's first frame: the output starts in the input's phase
            advance = ph_in[near]
            prev = np.zeros(n_bins)
        else:
            dphi = princarg(ph_in - state.last_phase - omega)
            advance = ratio * (omega + dphi)[near]  # instantaneous frequency, scaled by the shift
            prev = state.out_phase
        mag = np.where(valid, (1 - frac) * mag_in[i0] + frac * mag_in[i0 + 1], 0.0)
        phase = prev + advance
        if phase_lock and state.last_phase is not None:
            peaks = np.flatnonzero(_peaks(mag))
            if peaks.size:  # each bin follows its nearest peak, keeping its offset to it from the input
                edges = (peaks[1:] + peaks[:-1]) / 2
                owner = peaks[np.searchsorted(edges, k)]
                phase = phase[owner] + (ph_in[near] - ph_in[near[owner]])
        out[t] = mag * np.exp(1j * phase)
        state.last_phase, state.out_phase = ph_in, princarg(phase)
    return out


def pitch_shift_chunk(x: np.ndarray, ratio: float, state: VocoderState, gain: np.ndarray | None = None,
                      phase_lock: bool = True) -> np.ndarray:
    """Feed ``x`` (samples,) to the shifter; returns the samples completed so far (whole hops, delayed by
    ``N_FFT - HOP``). ``gain`` (bins,) shapes the output spectrum (the model's learned correction)."""
    data = np.concatenate([state.pending, np.asarray(x, np.float64)])
    n_frames = (len(data) - N_FFT) // HOP + 1 if len(data) >= N_FFT else 0
    if n_frames <= 0:
        state.pending = data
        return np.zeros(0, np.float64)
    window = np.hanning(N_FFT + 1)[:-1]
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(data[idx] * window, axis=1)
    shifted = shift_frames(spec, ratio, state, phase_lock)
    if gain is not None:
        shifted = shifted * gain
    frames = np.fft.irfft(shifted, N_FFT, axis=1) * window / 1.5
    ola = np.zeros(HOP * (n_frames - 1) + N_FFT)
    ola[: len(state.tail)] += state.tail
    for t in range(n_frames):  # overlap-add: a loop over frames is as fast as np.add.at here
        ola[t * HOP : t * HOP + N_FFT] += frames[t]
    emitted = n_frames * HOP
    state.tail = ola[emitted:]
    state.pending = data[emitted:]
    return ola[:emitted]
