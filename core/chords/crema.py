"""crema's chord recogniser (McFee & Bello, ISMIR 2017), ported from Keras 2.2 to torch; no TensorFlow, no pumpp.

Pipeline, each step a small function so the parity test can check it against the original:

1. :func:`features` — pumpp's ``HCQTMag`` as crema configured it: mono audio resampled to 44.1 kHz, a CQT of
   216 bins (6 octaves from C1, 3 bins per semitone) at harmonics 1 and 2, hop 4096 samples (≈ 10.77 frames/s),
   each harmonic in dB relative to its own maximum (``amplitude_to_db(ref=np.max)``, 80 dB floor).
2. :class:`CremaChordNet` — BN, two convolutions, two bidirectional GRUs in Keras 2 semantics, four heads.
3. :func:`viterbi` — crema's decoding: Viterbi over the 170 chord tags with a self-loop transition matrix.
4. :func:`segments_from_path` — runs of equal tags → (start, end, label, confidence), as pumpp's ``inverse`` does,
   then crema's inversion step (the bass head's geometric mean over a segment adds ``/3``, ``/5``, ...).

Weights: ``assets/models/chords/crema`` (``scripts/convert_crema.py`` made them from the crema 0.2.0 wheel; BSD-2,
see LICENSE.md there). Frame ``i`` of every output covers time ``i * hop_length / sr`` seconds.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

MODELS = Path(__file__).resolve().parent.parent.parent / "assets" / "models" / "chords"
DEFAULT_MODEL = "crema"
#: crema's bass-relative scale degrees, used for inversions (crema/models/chord.py)
SEMITONE_TO_SCALE_DEGREE = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "b6", "6", "b7", "7")
NO_CHORD = ("N", "X")
#: frames quieter than this RMS (−80 dBFS) are no-chord. crema has no such gate: its features are in dB relative
#: to the loudest bin, so digital silence becomes a flat 0 dB "spectrum" and decodes to some chord
SILENCE_RMS = 1e-4
#: MIDI chord track: chord tones from C4 up, the bass an octave below C4
MIDI_CHORD_BASE = 60
MIDI_BASS_BASE = 48
MIDI_VELOCITY = 80


@dataclass(frozen=True)
class CremaConfig:
    """Everything ``config.json``'s ``kwargs`` holds: feature parameters, network sizes and the decoder."""

    sr: float = 44_100.0
    hop_length: int = 4096
    fmin: float = 32.70319566257483  # C1
    n_octaves: int = 6
    over_sample: int = 3  # bins per semitone
    harmonics: tuple[int, ...] = (1, 2)
    log: bool = True
    labels: tuple[str, ...] = ()  # the 170 chord tags in the network's output order
    p_self: float = 0.957154635467057  # Viterbi self-loop probability
    conv_size: int = 5
    n_filters: int = 72
    gru_units: int = 128
    bn_eps: float = 1e-3

    def __post_init__(self):
        object.__setattr__(self, "harmonics", tuple(self.harmonics))
        object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def n_bins(self) -> int:
        return self.n_octaves * 12 * self.over_sample

    @property
    def frame_seconds(self) -> float:
        return self.hop_length / self.sr


# ----------------------------------------------------------------------------- features


def n_frames(n_samples: int, sr: float, hop_length: int) -> int:
    """Frames pumpp keeps for ``n_samples`` at ``sr``: floor(duration / hop) — a partial last hop is dropped."""
    return int(np.floor(n_samples / hop_length))


def features(y: np.ndarray, sr: float, config: CremaConfig) -> np.ndarray:
    """Harmonic log-CQT (frames, n_bins, n_harmonics) float32, in dB ≤ 0, of mono audio ``y`` (samples,) at ``sr``.

    Zero frames for audio shorter than one hop (4096 samples at 44.1 kHz, 93 ms)."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0)  # (channels, samples) → mono, as librosa.load(mono=True)
    bins_per_octave = 12 * config.over_sample
    offsets = [bins_per_octave * math.log2(h) for h in config.harmonics]
    rate, hop = config.sr, config.hop_length
    top_hz = config.fmin * 2 ** ((max(offsets) + config.n_bins) / bins_per_octave)
    down = config.sr / sr
    if down in (2, 4) and hop % down == 0 and top_hz < sr / 2:
        # audio at half the model's rate (the analysis tab's 22.05 kHz) is read as it is, at the same frame
        # times: resampling it up only for librosa to bring it back down cost 70 ms and 46 MB on 3 minutes,
        # and the features move by at most 0.03 dB (tests/test_chords.py)
        rate, hop = sr, int(hop // down)
    elif sr != config.sr:
        y = librosa.resample(y, orig_sr=sr, target_sr=config.sr)  # soxr_hq, pumpp's default too
    frames = n_frames(len(y), rate, hop)
    if frames == 0:
        return np.zeros((0, config.n_bins, len(config.harmonics)), dtype=np.float32)

    def cqt(fmin: float, n_bins: int) -> np.ndarray:
        c = np.abs(librosa.cqt(y=y, sr=rate, hop_length=hop, fmin=fmin, n_bins=n_bins,
                               bins_per_octave=bins_per_octave))
        return librosa.util.fix_length(c, size=frames)

    if all(o.is_integer() for o in offsets):
        # octave harmonics (crema's 1 and 2) share their bins: one CQT over all of them, sliced, takes 0.17 s on
        # 3 minutes instead of 0.29 s, within 0.006 dB of one CQT per harmonic (tests/test_chords.py)
        every = cqt(config.fmin, int(max(offsets)) + config.n_bins)
        mags = [every[int(o):int(o) + config.n_bins] for o in offsets]
    else:
        mags = [cqt(config.fmin * h, config.n_bins) for h in config.harmonics]
    if config.log:
        mags = [librosa.amplitude_to_db(c, ref=np.max) for c in mags]
    return np.transpose(np.asarray(mags, dtype=np.float32), (2, 1, 0))


# ----------------------------------------------------------------------------- network


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2's hard sigmoid, clip(0.2 x + 0.5, 0, 1) — not torch's (x / 6 + 0.5)."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class KerasGRU(nn.Module):
    """One direction of a Keras 2 GRU with ``reset_after=False``, weights in Keras's layout (gate order z, r, h).

    Unlike torch.nn.GRU the reset gate multiplies the state *before* the recurrent matrix, and the gates use
    :func:`hard_sigmoid`, so torch's fused GRU cannot be used:

        z = σ(x Wz + bz + h Uz),  r = σ(x Wr + br + h Ur),  h̃ = tanh(x Wh + bh + (r ⊙ h) Uh),  h ← z ⊙ h + (1 − z) ⊙ h̃
    """

    def __init__(self, n_in: int, units: int):
        super().__init__()
        self.units = units
        self.kernel = nn.Parameter(torch.zeros(n_in, 3 * units))  # (in, 3u)
        self.recurrent_kernel = nn.Parameter(torch.zeros(units, 3 * units))  # (u, 3u)
        self.bias = nn.Parameter(torch.zeros(3 * units))  # (3u,)


class BiGRU(nn.Module):
    """Keras ``Bidirectional(GRU(return_sequences=True), merge_mode='concat')``: (B, T, in) → (B, T, 2u).

    Both directions step together (stacked as a batch of two matrices) so a 3-minute song costs ~2000 small
    steps per layer rather than ~4000."""

    def __init__(self, n_in: int, units: int):
        super().__init__()
        self.forward_gru = KerasGRU(n_in, units)
        self.backward_gru = KerasGRU(n_in, units)

    # state-dict names "forward"/"backward" as the converter writes them
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for direction in ("forward", "backward"):
            for part in ("kernel", "recurrent_kernel", "bias"):
                old = f"{prefix}{direction}.{part}"
                if old in state_dict:
                    state_dict[f"{prefix}{direction}_gru.{part}"] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.forward_gru.units
        grus = (self.forward_gru, self.backward_gru)
        # input projections for every step at once: (2, B, T, 3u); the backward one is read back to front
        xw = torch.stack([x @ grus[0].kernel + grus[0].bias, (x @ grus[1].kernel + grus[1].bias).flip(1)])
        u_zr = torch.stack([g.recurrent_kernel[:, : 2 * u] for g in grus])  # (2, u, 2u)
        u_h = torch.stack([g.recurrent_kernel[:, 2 * u:] for g in grus])  # (2, u, u)
        if torch.is_grad_enabled() and xw.requires_grad:
            out = scan_torch(xw, u_zr, u_h)
        else:
            # inference: ~2000 steps of (2 × 128)-sized ops, where torch's per-op overhead (and its intra-op
            # threads fighting over 2 cores: 20x slower measured) dominates; the numpy loop is the same arithmetic
            out = torch.from_numpy(scan_numpy(xw.numpy(), u_zr.numpy(), u_h.numpy()))
        return torch.cat([out[0], out[1].flip(1)], dim=-1)


def scan_torch(xw: torch.Tensor, u_zr: torch.Tensor, u_h: torch.Tensor) -> torch.Tensor:
    """Keras GRU recurrence for D stacked directions: xw (D, B, T, 3u) projected inputs, u_zr (D, u, 2u),
    u_h (D, u, u) → states (D, B, T, u); differentiable."""
    d, b, t, _ = xw.shape
    u = u_h.shape[-1]
    h = xw.new_zeros(d, b, u)
    out = []
    for i in range(t):
        xi = xw[:, :, i]  # (D, B, 3u)
        zr = hard_sigmoid(xi[..., : 2 * u] + torch.bmm(h, u_zr))
        z, r = zr[..., :u], zr[..., u:]
        hh = torch.tanh(xi[..., 2 * u:] + torch.bmm(r * h, u_h))
        h = z * h + (1 - z) * hh
        out.append(h)
    return torch.stack(out, dim=2)


def scan_numpy(xw: np.ndarray, u_zr: np.ndarray, u_h: np.ndarray) -> np.ndarray:
    """:func:`scan_torch` in numpy, for inference: same shapes, float32."""
    d, b, t, _ = xw.shape
    u = u_h.shape[-1]
    h = np.zeros((d, b, u), dtype=np.float32)
    out = np.empty((d, b, t, u), dtype=np.float32)
    for i in range(t):
        xi = xw[:, :, i]
        zr = np.clip(0.2 * (xi[..., : 2 * u] + h @ u_zr) + 0.5, 0.0, 1.0)  # hard_sigmoid
        z, r = zr[..., :u], zr[..., u:]
        hh = np.tanh(xi[..., 2 * u:] + (r * h) @ u_h)
        h = z * h + (1 - z) * hh
        out[:, :, i] = h
    return out


class CremaChordNet(nn.Module):
    """crema's chord network. Input: features (B, T, n_bins, n_harmonics) as :func:`features` makes them.

    Output: dict of per-frame probabilities, each (B, T, ·): ``tag`` (170, softmax over ``config.labels``),
    ``pitch`` (12 sigmoids, C..B), ``root`` and ``bass`` (13-way softmax: C..B, then no-chord)."""

    def __init__(self, config: CremaConfig):
        super().__init__()
        c, eps = config, config.bn_eps
        n_h, k, width = len(c.harmonics), c.conv_size, 2 * c.gru_units
        self.bn_in = nn.BatchNorm2d(n_h, eps=eps)
        self.conv_smooth = nn.Conv2d(n_h, 1, k, padding=k // 2)  # Keras 'same' for an odd kernel
        self.bn_smooth = nn.BatchNorm2d(1, eps=eps)
        self.conv_freq = nn.Conv2d(1, c.n_filters, (1, c.n_bins))  # one filter bank over all bins
        self.bn_freq = nn.BatchNorm2d(c.n_filters, eps=eps)
        self.gru1 = BiGRU(c.n_filters, c.gru_units)
        self.bn_gru1 = nn.BatchNorm1d(width, eps=eps)
        self.gru2 = BiGRU(width, c.gru_units)
        self.head_pitch = nn.Linear(width, 12)
        self.head_root = nn.Linear(width, 13)
        self.head_bass = nn.Linear(width, 13)
        self.bn_tag = nn.BatchNorm1d(width + 12 + 13 + 13, eps=eps)
        self.head_tag = nn.Linear(width + 12 + 13 + 13, len(c.labels))

    @staticmethod
    def _bn_last(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
        return bn(x.transpose(1, 2)).transpose(1, 2)  # Keras normalises the last axis; torch wants (B, C, T)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.bn_in(x.permute(0, 3, 1, 2))  # (B, H, T, bins)
        x = self.bn_smooth(torch.relu(self.conv_smooth(x)))  # (B, 1, T, bins)
        x = self.bn_freq(torch.relu(self.conv_freq(x)))  # (B, F, T, 1)
        x = x.squeeze(3).transpose(1, 2)  # (B, T, F)
        x = self._bn_last(self.bn_gru1, self.gru1(x))
        x = self.gru2(x)  # (B, T, 2u)
        pitch = torch.sigmoid(self.head_pitch(x))
        root = torch.softmax(self.head_root(x), dim=-1)
        bass = torch.softmax(self.head_bass(x), dim=-1)
        joint = self._bn_last(self.bn_tag, torch.cat([x, pitch, root, bass], dim=-1))
        return {"tag": torch.softmax(self.head_tag(joint), dim=-1), "pitch": pitch, "root": root, "bass": bass}


@dataclass
class CremaModel:
    config: CremaConfig
    net: CremaChordNet

    def outputs(self, feats: np.ndarray) -> dict[str, np.ndarray]:
        """Features (T, n_bins, n_harmonics) → {tag, pitch, root, bass}: float32 (T, ·) probabilities."""
        if len(feats) == 0:
            return {"tag": np.zeros((0, len(self.config.labels)), np.float32), "pitch": np.zeros((0, 12), np.float32),
                    "root": np.zeros((0, 13), np.float32), "bass": np.zeros((0, 13), np.float32)}
        with torch.inference_mode():
            out = self.net(torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))[None])
        return {k: v[0].numpy() for k, v in out.items()}


def resolve(name_or_path: str | Path = DEFAULT_MODEL) -> Path:
    """A model name under assets/models/chords, or a directory holding config.json + model.safetensors."""
    path = Path(name_or_path)
    return path if path.is_dir() else MODELS / str(name_or_path)


@lru_cache(maxsize=4)
def _load(directory: Path) -> CremaModel:
    from safetensors.torch import load_file

    spec = json.loads((directory / "config.json").read_text())
    if spec.get("kind") != "crema-chord":
        raise ValueError(f"{directory}: kind {spec.get('kind')!r}, expected 'crema-chord'")
    config = CremaConfig(**spec["kwargs"])
    net = CremaChordNet(config)
    net.load_state_dict(load_file(str(directory / "model.safetensors")))
    return CremaModel(config, net.eval())


def load(name_or_path: str | Path = DEFAULT_MODEL) -> CremaModel:
    """Rebuild the network from ``config.json`` (``{"kind": "crema-chord", "kwargs": CremaConfig fields}``) and
    ``model.safetensors`` beside it; cached per directory."""
    return _load(resolve(name_or_path).resolve())


# ----------------------------------------------------------------------------- decoding


def viterbi(prob: np.ndarray, p_self: float) -> np.ndarray:
    """Most likely tag path (T,) int for per-frame tag probabilities (T, n), as librosa's ``viterbi_discriminative``
    with ``transition_loop(n, p_self)`` and uniform state/initial distributions (crema's settings).

    With a self-loop matrix the best predecessor of state j is either j itself or the best state overall, so each
    step is O(n) instead of O(n²) — the same path, up to exact ties."""
    prob = np.asarray(prob)
    t, n = prob.shape
    if t == 0:
        return np.zeros(0, dtype=int)
    eps = np.finfo(prob.dtype).tiny  # librosa's tiny(prob)
    log_prob = np.log(prob + eps).astype(np.float64)
    log_stay, log_move = np.log(p_self + eps), np.log((1 - p_self) / (n - 1) + eps)
    value = log_prob[0].copy()
    stay = np.zeros((t, n), dtype=bool)
    best = np.zeros(t, dtype=int)
    for i in range(1, t):
        best[i] = int(np.argmax(value))
        stay_score, move_score = value + log_stay, value[best[i]] + log_move
        stay[i] = stay_score >= move_score
        value = log_prob[i] + np.where(stay[i], stay_score, move_score)
    path = np.empty(t, dtype=int)
    path[-1] = int(np.argmax(value))
    for i in range(t - 1, 0, -1):
        path[i - 1] = path[i] if stay[i, path[i]] else best[i]
    return path


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float  # seconds
    label: str  # Harte / mir_eval syntax: "C:maj", "A:min7", "G:maj/3", "N" (no chord), "X" (unknown)
    confidence: float  # mean tag probability over the segment's frames, 0..1


def _inversion(label: str, bass: np.ndarray) -> str:
    """crema's inversion rule: the bass head's geometric mean over the segment (frames, 13) names a bass pitch
    class; if it is a chord tone other than the root, append its scale degree (``C:maj`` + E → ``C:maj/3``)."""
    import mir_eval

    if label in NO_CHORD or len(bass) == 0:
        return label
    mean_bass = np.exp(np.log(bass.astype(np.float64)).mean(axis=0))  # scipy.stats.gmean
    bass_pc = int(np.argmax(mean_bass))
    root_pc, pitches, _ = mir_eval.chord.encode(label)
    rel = (bass_pc - root_pc) % 12 if bass_pc < 12 else 0
    return f"{label}/{SEMITONE_TO_SCALE_DEGREE[rel]}" if rel and pitches[rel] else label


def segments_from_path(path: np.ndarray, out: dict[str, np.ndarray], config: CremaConfig, duration: float,
                       inversions: bool = True) -> list[Segment]:
    """Runs of equal tags in ``path`` (T,) → segments, as pumpp's ``decode_intervals`` + crema's ``predict``.

    As there, a segment of frames [p, p + d) reads its confidence and bass over frames p .. p + d inclusive (one
    frame into the next segment); unlike there, the last segment ends at ``duration`` (pumpp lets it run one frame
    past the audio)."""
    import librosa

    change = np.flatnonzero(path[1:] != path[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(path)]])
    times = librosa.frames_to_time(np.arange(len(path) + 1), sr=config.sr, hop_length=config.hop_length)
    # pumpp maps the boundary times back to frames with floor(): float rounding can land one frame early, and
    # crema's confidences and bass notes depend on it, so do the same round trip
    frames = librosa.time_to_frames(times, sr=config.sr, hop_length=config.hop_length)
    segs = []
    for p, e in zip(starts, ends):
        tag = int(path[p])
        label = config.labels[tag]
        f0, f1 = int(frames[p]), int(frames[e])
        confidence = float(out["tag"][f0: f1 + 1, tag].mean())
        if inversions:
            label = _inversion(label, out["bass"][f0: f1 + 1])
        end = duration if e == len(path) else float(times[e])
        segs.append(Segment(round(float(times[p]), 6), round(end, 6), label, round(confidence, 6)))
    return segs


# ----------------------------------------------------------------------------- result


@dataclass
class Chords:
    """A chord transcription: ``segments`` in time order covering [0, duration] seconds."""

    segments: list[Segment]
    duration: float
    model: str = DEFAULT_MODEL
    frame_seconds: float = field(default=4096 / 44_100)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.segments]

    @property
    def intervals(self) -> np.ndarray:
        """(n, 2) start and end in seconds, as mir_eval.chord.evaluate wants them."""
        return np.array([[s.start, s.end] for s in self.segments], dtype=float).reshape(-1, 2)

    def to_dict(self) -> dict:
        return {"model": self.model, "duration": self.duration, "segments": [asdict(s) for s in self.segments]}

    def to_csv(self, path: str | Path) -> Path:
        """start,end,label,confidence per row (seconds), with a header."""
        path = Path(path)
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["start", "end", "label", "confidence"])
            for s in self.segments:
                w.writerow([f"{s.start:.3f}", f"{s.end:.3f}", s.label, f"{s.confidence:.3f}"])
        return path

    def to_midi(self, path: str | Path | None = None, program: int = 0):
        """A pretty_midi.PrettyMIDI with one instrument, "chords": one block chord per segment (no notes for N/X):
        the chord tones from C4 up and the bass (the inversion's bass if any) an octave below. Written to ``path``
        if given."""
        import mir_eval
        import pretty_midi

        pm = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(program=program, name="chords")
        for s in self.segments:
            if s.label in NO_CHORD or s.end <= s.start:
                continue
            root, bitmap, bass = mir_eval.chord.encode(s.label)
            tones = [MIDI_CHORD_BASE + (root + i) % 12 for i in np.flatnonzero(bitmap)]
            tones.append(MIDI_BASS_BASE + (root + bass) % 12)
            for pitch in sorted(set(tones)):
                inst.notes.append(pretty_midi.Note(MIDI_VELOCITY, int(pitch), float(s.start), float(s.end)))
        pm.instruments.append(inst)
        if path is not None:
            pm.write(str(path))
        return pm


def silent_frames(y: np.ndarray, sr: float, frames: int, config: CremaConfig,
                  threshold: float = SILENCE_RMS) -> np.ndarray:
    """(frames,) bool: the RMS of audio ``y`` (samples,) or (channels, samples) over each feature frame's hop is
    below ``threshold``."""
    y = np.asarray(y, dtype=np.float64)
    y = y.mean(axis=0) if y.ndim > 1 else y
    edges = np.round(np.arange(frames + 1) * config.frame_seconds * sr).astype(int)
    power = np.concatenate([[0.0], np.cumsum(y**2)])
    edges = np.minimum(edges, len(y))
    rms = np.sqrt((power[edges[1:]] - power[edges[:-1]]) / np.maximum(edges[1:] - edges[:-1], 1))
    return rms < threshold


def gate_silence(tag: np.ndarray, silent: np.ndarray, n_index: int) -> np.ndarray:
    """Tag probabilities (T, n) with silent frames replaced by certainty of no-chord (column ``n_index``)."""
    if not silent.any():
        return tag
    tag = tag.copy()
    tag[silent] = 0.0
    tag[silent, n_index] = 1.0
    return tag


def recognise(y: np.ndarray, sr: float, model: str | Path | CremaModel = DEFAULT_MODEL,
              inversions: bool = True, decode: str = "viterbi") -> Chords:
    """Chords of audio ``y`` (samples,) or (channels, samples) at ``sr`` Hz.

    ``decode``: "viterbi" (crema's) or "argmax" per frame (pumpp's choice without a transition matrix: follows
    fast harmonic rhythm, at the price of flicker). Audio shorter than one feature frame (93 ms) gives a single
    ``N`` segment; silence decodes to ``N`` too."""
    m = model if isinstance(model, CremaModel) else load(model)
    name = Path(str(model)).name if not isinstance(model, CremaModel) else DEFAULT_MODEL
    y = np.asarray(y, dtype=np.float32)
    duration = float(y.shape[-1] / sr)
    feats = features(y, sr, m.config)
    if len(feats) == 0:
        segs = [Segment(0.0, round(duration, 6), "N", 1.0)] if duration > 0 else []
        return Chords(segs, duration, name, m.config.frame_seconds)
    out = m.outputs(feats)
    out["tag"] = gate_silence(out["tag"], silent_frames(y, sr, len(feats), m.config), m.config.labels.index("N"))
    if decode not in ("viterbi", "argmax"):
        raise ValueError(f"decode must be 'viterbi' or 'argmax', not {decode!r}")
    path = viterbi(out["tag"], m.config.p_self) if decode == "viterbi" else out["tag"].argmax(axis=1)
    return Chords(segments_from_path(path, out, m.config, duration, inversions), duration, name,
                  m.config.frame_seconds)
