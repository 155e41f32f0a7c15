"""BeatNet's beat/downbeat network (Heydari, Cwitkowitz & Duan, ISMIR 2021) in plain numpy + torch.

The pretrained weights come from the ``BeatNet==1.1.3`` wheel (CC BY 4.0, see ``scripts/convert_beatnet.py``);
neither BeatNet nor madmom is imported. What is ported, constant by constant, from BeatNet's ``log_spect.py``
(madmom processors) and ``model.py``:

- audio at 22 050 Hz, frames of ``int(64 ms * sr)`` = 1411 samples every ``int(20 ms * sr)`` = 441 (50 fps),
  frame ``i`` centred on sample ``i * 441`` (zero padded), ``ceil(len / 441)`` frames;
- |FFT| of the Hann-windowed frame, first ``1411 >> 1`` = 705 bins (madmom labels bin ``k`` with
  ``k * sr / 1410`` Hz);
- a logarithmic filterbank of overlapping triangles, 24 bands per octave from 30 Hz to 17 kHz (A4 = 440 Hz),
  each normalised to area 1, duplicate bins dropped: 136 bands;
- ``log10(1 + filtered)``, and its positive difference to the previous frame, stacked: 272 features;
- ``BDA``: per frame Conv1d(1→2, 10) → ReLU → MaxPool(2) → Linear(262→150), then a 2-layer causal LSTM (150)
  and Linear(150→3), softmax over (beat, downbeat, no beat).

Post-processing is ours: the tempo from the summed beat probability's periodicity (core.tempo's salience x prior),
its metrical level set by the bar length the downbeat probability repeats at, beats by librosa's tracker on the
beat probability, and the bar phase and meter (3 or 4) by the downbeat probability at the beats.
"""
from __future__ import annotations

import contextlib
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.threads import single_thread

SR = 22_050
HOP = int(0.020 * SR)  # 441 samples: 50 fps
WIN = int(0.064 * SR)  # 1411 samples
FPS = SR / HOP
BANDS_PER_OCTAVE = 24
FMIN, FMAX, FREF = 30.0, 17_000.0, 440.0
DIFF_RATIO = 0.5  # the difference is taken to the frame where the window falls to this share of its peak
N_FEATURES = 272
FFT_BLOCK = 2048  # frames per FFT block (41 s)
NET_CHUNK = 1500  # frames per pass through the network (30 s), the LSTM's state carried between passes
MODEL_DIR = Path(__file__).resolve().parents[2] / "assets" / "models" / "beats" / "beatnet"
#: Columns of :func:`activations`.
BEAT, DOWNBEAT, NO_BEAT = 0, 1, 2

# --- features: madmom's framed signal -> STFT -> log filterbank -> log + positive difference ----------------


def frame_signal(y: np.ndarray, frame_size: int = WIN, hop: int = HOP) -> np.ndarray:
    """(ceil(len / hop), frame_size) frames, frame ``i`` centred on sample ``i * hop`` (madmom, origin 0)."""
    n = int(math.ceil(len(y) / hop))
    left = frame_size // 2
    padded = np.zeros(left + n * hop + frame_size, dtype=np.float32)
    padded[left:left + len(y)] = y
    return np.lib.stride_tricks.sliding_window_view(padded, frame_size)[::hop][:n]


def log_frequencies(bands_per_octave: int = BANDS_PER_OCTAVE, fmin: float = FMIN, fmax: float = FMAX,
                    fref: float = FREF) -> np.ndarray:
    """Frequencies (Hz) spaced ``bands_per_octave`` to the octave, aligned on ``fref``, within [fmin, fmax]."""
    left = np.floor(np.log2(fmin / fref) * bands_per_octave)
    right = np.ceil(np.log2(fmax / fref) * bands_per_octave)
    f = fref * 2.0 ** (np.arange(left, right) / bands_per_octave)
    f = f[np.searchsorted(f, fmin):]
    return f[:np.searchsorted(f, fmax, "right")]


def bin_frequencies(frame_size: int = WIN, sr: int = SR) -> np.ndarray:
    """Centre frequency (Hz) of each of the ``frame_size >> 1`` STFT bins, as madmom labels them."""
    n = frame_size >> 1
    return np.fft.fftfreq(n * 2, 1.0 / sr)[:n]


def closest_bins(freqs: np.ndarray, bin_freqs: np.ndarray) -> np.ndarray:
    """The unique bins closest to ``freqs`` (ties to the lower bin)."""
    idx = np.clip(bin_freqs.searchsorted(freqs), 1, len(bin_freqs) - 1)
    idx -= freqs - bin_freqs[idx - 1] < bin_freqs[idx] - freqs
    return np.unique(idx)


@functools.cache
def filterbank(frame_size: int = WIN, sr: int = SR) -> np.ndarray:
    """(bins, bands) float32: overlapping triangles between consecutive centre bins, each of area 1."""
    bins = closest_bins(log_frequencies(), bin_frequencies(frame_size, sr))
    fb = np.zeros((frame_size >> 1, len(bins) - 2), dtype=np.float32)
    for band, (start, center, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:])):
        if stop - start < 2:  # too narrow for a triangle: one bin
            center, stop = start, start + 1
        tri = np.zeros(stop - start)
        tri[:center - start] = np.linspace(0, 1, center - start, endpoint=False)
        tri[center - start:] = np.linspace(1, 0, stop - center, endpoint=False)
        tri = (tri / tri.sum()).astype(np.float32)
        fb[start:stop, band] = np.maximum(fb[start:stop, band], tri)
    return fb


def diff_frames(frame_size: int = WIN, hop: int = HOP, ratio: float = DIFF_RATIO) -> int:
    """Frames between a spectrum and the one it is differenced with (1 at 50 fps)."""
    window = np.hanning(frame_size)
    first = int(np.argmax(window > ratio * window.max()))
    return int(max(1, round((frame_size / 2 - first) / hop)))


def resample(y: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 at :data:`SR` (the rate the network was trained at)."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0 if y.shape[0] < y.shape[-1] else 1)  # (channels, n) or (n, channels)
    if sr != SR:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=SR).astype(np.float32)
    return y


def features(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """(frames, 272) float32 at 50 fps: 136 log-filtered magnitudes, then their positive difference."""
    frames = frame_signal(resample(y, sr))
    if len(frames) == 0:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    import scipy.fft

    window = np.hanning(WIN).astype(np.float32)
    fb = filterbank()
    used = int(np.flatnonzero(fb.any(axis=1))[-1]) + 1  # bins above the top band (17 kHz) are never read
    # float32 FFT (madmom's is float64 stored as complex64): 2x faster, features within 1e-5; in blocks of
    # frames so that 10 minutes never hold more than one block's spectrum
    logspec = np.empty((len(frames), fb.shape[1]), dtype=np.float32)
    for i in range(0, len(frames), FFT_BLOCK):
        spec = np.abs(scipy.fft.rfft(frames[i:i + FFT_BLOCK] * window, axis=1)[:, :used])
        logspec[i:i + FFT_BLOCK] = np.log10(spec @ fb[:used] + 1.0)
    d = diff_frames()
    diff = np.zeros_like(logspec)
    diff[d:] = np.maximum(logspec[d:] - logspec[:-d], 0.0)
    return np.hstack([logspec, diff])


# --- the network ---------------------------------------------------------------------------------------------


@functools.cache
def _torch_module():
    import torch
    from torch import nn

    class BDA(nn.Module):
        """BeatNet's CRNN with its parameter names: (batch, frames, 272) -> (batch, frames, 3) logits."""

        def __init__(self, dim_in: int = N_FEATURES, num_cells: int = 150, num_layers: int = 2,
                     conv_out: int = 150, kernel_size: int = 10):
            super().__init__()
            self.dim_in = dim_in
            self.conv1 = nn.Conv1d(1, 2, kernel_size)
            self.linear0 = nn.Linear(2 * ((dim_in - kernel_size + 1) // 2), conv_out)
            self.lstm = nn.LSTM(conv_out, num_cells, num_layers=num_layers, batch_first=True)
            self.linear = nn.Linear(num_cells, 3)

        def frontend(self, x: torch.Tensor) -> torch.Tensor:
            """(batch, frames, 272) -> (batch, frames, conv_out): per frame (the convolution runs over frequency)."""
            b, t, _ = x.shape
            z = torch.relu(self.conv1(x.reshape(b * t, 1, self.dim_in)))
            return self.linear0(nn.functional.max_pool1d(z, 2).flatten(1)).reshape(b, t, -1)

        def forward(self, x: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
            """Logits; ``chunk`` frames at a time with the LSTM's state carried over (the same numbers, memory
            bounded by the chunk: a 3-minute song at once peaked at 150 MB)."""
            if chunk is None or x.shape[1] <= chunk:
                return self.linear(self.lstm(self.frontend(x))[0])  # zero initial state, as a fresh BeatNet
            state, out = None, []
            for i in range(0, x.shape[1], chunk):
                y, state = self.lstm(self.frontend(x[:, i:i + chunk]), state)
                out.append(self.linear(y))
            return torch.cat(out, dim=1)

    return BDA


def build(**kwargs):
    """A randomly initialised network (``kwargs`` as in config.json)."""
    return _torch_module()(**kwargs)


def from_dir(path: Path):
    """The network in eval mode from ``path``/config.json (``{"kind": "beatnet", "kwargs": {...}}``) and
    ``path``/model.safetensors, uncached."""
    from safetensors.torch import load_file

    config = json.loads((Path(path) / "config.json").read_text())
    if config.get("kind") != "beatnet":
        raise ValueError(f"{path}: not a BeatNet checkpoint (kind {config.get('kind')!r})")
    model = build(**config.get("kwargs", {}))
    model.load_state_dict(load_file(str(Path(path) / "model.safetensors")))
    return model.eval()


def load(name_or_path: str | Path = "beatnet"):
    """:func:`from_dir`, once per process and path, on CPU; ``"beatnet"`` is the bundled checkpoint."""
    from core import registry

    path = MODEL_DIR if str(name_or_path) == "beatnet" else Path(name_or_path)
    return registry.get(f"beatnet:{path.resolve()}", lambda: from_dir(path))


def activations(y: np.ndarray, sr: int, model=None) -> np.ndarray:
    """(frames, 3) float32 probabilities (beat, downbeat, no beat) summing to 1, at :data:`FPS` (50) frames per
    second, frame ``i`` at ``i / 50`` s. "beat" means a beat that is not a downbeat."""
    import torch

    feats = features(y, sr)
    if len(feats) == 0:
        return np.zeros((0, 3), dtype=np.float32)
    model = model if model is not None else load()
    device = next(model.parameters()).device
    # a batch-1 LSTM is thousands of tiny sequential steps: on CPU one thread is 3x faster than two on a busy box
    single = contextlib.nullcontext() if device.type != "cpu" else single_thread()
    with single, torch.inference_mode():
        logits = model(torch.from_numpy(feats)[None].to(device), chunk=NET_CHUNK)[0]
    return torch.softmax(logits, dim=-1).float().cpu().numpy()


# --- post-processing: tempo by periodicity + metrical level by the bar, beats by librosa, downbeats by phase -

MIN_SECONDS = 2.0  # shorter audio has too few beats for a tempo
BAR_SECONDS = (1.0, 6.0)  # bar lengths the downbeat periodicity is searched in (4/4 at 40–240 BPM)
BEATS_PER_BAR = (2, 3, 4, 6, 8)  # beats per bar a metrical level may give
LEVELS = (1.0, 1.5, 2 / 3)  # the periodicity's tempo and its dotted / triplet relatives
LEVEL_MARGIN = 0.03  # another level must fit the bar this much better (relative) to replace the periodicity's
TIGHTNESS = 400  # librosa beat tracker: keep to the tempo (as core.tempo does)
METERS = (3, 4)


@dataclass
class Beats:
    """Beats and downbeats of a recording (seconds), its tempo and meter."""

    beats: np.ndarray
    downbeats: np.ndarray
    bpm: float | None
    beats_per_bar: int | None = None
    extra: dict = field(default_factory=dict)  # what the tempo was chosen from

    def to_dict(self) -> dict:
        return {"bpm": None if self.bpm is None else round(float(self.bpm), 2), "beats_per_bar": self.beats_per_bar,
                "beats": [round(float(t), 3) for t in self.beats],
                "downbeats": [round(float(t), 3) for t in self.downbeats], **self.extra}

    @staticmethod
    def empty() -> "Beats":
        return Beats(np.array([]), np.array([]), None)


def beat_envelope(act: np.ndarray) -> np.ndarray:
    """(frames,) probability of any beat (beat + downbeat)."""
    return act[:, BEAT] + act[:, DOWNBEAT]


def periodicity_tempo(env: np.ndarray, fps: float = FPS) -> float | None:
    """The tempo whose beat, bar multiples and half-beat repeat most in ``env``, weighted by core.tempo's genre
    prior, then fine-tuned on far lags (core.tempo's periodicity, salience and fine_tune, at ``fps``)."""
    from core import tempo

    ac = tempo.periodicity(env)
    grid = np.exp(np.linspace(math.log(tempo.MIN_BPM), math.log(tempo.MAX_BPM), 400))
    scores = np.array([tempo.salience(ac, b, fps) for b in grid]) * tempo.prior(grid)
    if scores.max() <= 0:
        return None
    return tempo.fine_tune(ac, float(grid[int(np.argmax(scores))]), fps)


def bar_seconds(downbeat: np.ndarray, fps: float = FPS, span=BAR_SECONDS) -> float | None:
    """The bar length (s): the lag in ``span`` where the downbeat probability's periodicity peaks."""
    from core import tempo

    ac = tempo.periodicity(downbeat)
    lags = np.arange(int(span[0] * fps), min(int(span[1] * fps), len(ac) - 1))
    if len(lags) == 0 or ac[lags].max() <= 0:
        return None
    return float(lags[int(np.argmax(ac[lags]))] / fps)


def metrical_level(bpm: float, bar: float | None, levels=LEVELS, counts=BEATS_PER_BAR,
                   margin: float = LEVEL_MARGIN) -> float:
    """``bpm`` or its dotted/triplet relative whose beats fill the bar most nearly a whole number of times.

    Why: on the real tracker modules the periodicity's misses are mostly at 2/3 of the beat (dotted quarters);
    a bar of 4 such beats holds 2.67 of them, which the network's downbeats expose."""
    if bar is None:
        return bpm

    def misfit(b: float) -> float:
        n = bar * b / 60.0
        return min(abs(n - k) / k for k in counts)

    best, best_misfit = bpm, misfit(bpm)
    for f in levels[1:]:
        if misfit(bpm * f) < best_misfit - margin:
            best, best_misfit = bpm * f, misfit(bpm * f)
    return best


def bar_phase(downbeat: np.ndarray, beat_frames: np.ndarray, meters=METERS) -> tuple[int | None, int]:
    """(beats per bar, index of the first downbeat): the meter and phase whose downbeats carry the most downbeat
    probability beyond the other beats'; (None, 0) with fewer than two bars of beats."""
    meters = [m for m in meters if len(beat_frames) >= 2 * m]
    if not meters:
        return None, 0
    at = np.array([downbeat[max(0, f - 1):f + 2].max() for f in beat_frames])  # ±1 frame: peaks and beats differ
    best, best_score = (None, 0), -np.inf
    for m in meters:
        for p in range(m):
            on = np.zeros(len(at), bool)
            on[p::m] = True
            score = at[on].mean() - at[~on].mean()
            if score > best_score:
                best, best_score = (m, p), score
    return best


def beats_from_activations(act: np.ndarray, fps: float = FPS) -> Beats:
    """Beats, downbeats, tempo and meter from :func:`activations` output (frames, 3)."""
    import librosa

    if len(act) < MIN_SECONDS * fps:
        return Beats.empty()
    env = beat_envelope(act)
    periodic = periodicity_tempo(env, fps)
    if periodic is None:
        return Beats.empty()
    bar = bar_seconds(act[:, DOWNBEAT], fps)
    bpm = metrical_level(periodic, bar)
    # librosa reads frames per second as sr / hop_length: any pair giving ``fps`` will do
    _, frames = librosa.beat.beat_track(onset_envelope=env, sr=int(round(fps * HOP)), hop_length=HOP, bpm=bpm,
                                        tightness=TIGHTNESS, units="frames")
    frames = np.asarray(frames, dtype=int)
    meter, phase = bar_phase(act[:, DOWNBEAT], frames)
    down = frames[phase::meter] if meter else np.array([], dtype=int)
    # how strongly the network hears a beat on the grid it chose (0-1): the tab's confidence in the tempo
    strength = float(env[frames].mean()) if len(frames) else 0.0
    extra = {"periodicity_bpm": round(periodic, 2), "bar_seconds": bar, "beat_strength": round(strength, 3)}
    return Beats(frames / fps, down / fps, float(bpm), meter, extra)


def track(y: np.ndarray, sr: int, model=None) -> Beats:
    """Beats, downbeats (s), tempo and meter of mono audio ``y``; empty when under 2 s or silent."""
    if len(y) < MIN_SECONDS * sr or not np.any(y):
        return Beats.empty()
    return beats_from_activations(activations(y, sr, model))
