"""Matplotlib figures shared by every tab.

Figures are built with ``matplotlib.figure.Figure`` directly, never through
``pyplot``: they are not registered in pyplot's global figure list, so nothing
leaks across requests and concurrent requests never share a "current figure".
Each function returns the figure; ``gr.Plot`` renders it, ``save`` writes it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # headless servers; must precede any backend use

from dataclasses import dataclass

import matplotlib.patches
import numpy as np
from matplotlib.figure import Figure

from core import features
from core.key import PITCH_CLASSES

WIDE = (10, 3)


def _figure(size=WIDE) -> tuple[Figure, "matplotlib.axes.Axes"]:
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


#: Where the time axis sits in every time plot (figure fractions), and the colour bar beside it: the same
#: for all, so stacked plots of one recording share their time axis on screen.
TIME_AXES, COLORBAR_AXES = (0.075, 0.2, 0.83, 0.68), (0.92, 0.2, 0.012, 0.68)


def _time_figure(colorbar: bool = False):
    """A wide figure whose time axis is at :data:`TIME_AXES`; returns (fig, ax, colour-bar axes or None)."""
    fig = Figure(figsize=WIDE)
    ax = fig.add_axes(TIME_AXES)
    return fig, ax, (fig.add_axes(COLORBAR_AXES) if colorbar else None)


@dataclass(frozen=True)
class Envelope:
    """A waveform reduced for drawing: per-bucket min and max (small enough to keep per session)."""

    t: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    duration: float


def envelope(y: np.ndarray, sr: int, max_points: int = 20_000) -> Envelope:
    """Min/max per bucket keeps transients visible at any length; short signals are kept as they are."""
    y = np.asarray(y, dtype=np.float32)
    if len(y) <= max_points:
        return Envelope(np.arange(len(y)) / sr, y, y, len(y) / sr)
    n = max_points // 2
    usable = len(y) // n * n
    buckets = y[:usable].reshape(n, -1)
    return Envelope(np.arange(n) * buckets.shape[1] / sr, buckets.min(axis=1), buckets.max(axis=1), len(y) / sr)


def waveform(y, sr: int | None = None, title: str = "Waveform", max_points: int = 20_000, beats=None,
             bpm: float | None = None, downbeats=None, chords=None) -> Figure:
    """Amplitude over time (``y`` audio at ``sr``, or an :class:`Envelope`), with the beat grid when given, the
    downbeats as bar lines, and ``chords`` ((start s, end s, label) triples) named along the top."""
    env = y if isinstance(y, Envelope) else envelope(y, sr, max_points)
    fig, ax, _ = _time_figure()
    if env.lo is env.hi:
        ax.plot(env.t, env.lo, color="tab:blue", linewidth=0.6)
    else:
        ax.fill_between(env.t, env.lo, env.hi, color="tab:blue", linewidth=0)
    if beats is not None and len(beats):
        shown, every = beat_lines(np.asarray(beats))
        what = "beats" if every == 1 else f"every {every}th beat"
        ax.vlines(shown, 0, 1, transform=ax.get_xaxis_transform(), color="tab:orange", linewidth=0.5, alpha=0.5,
                  label=f"{what} ({bpm:.1f} BPM)" if bpm else what)
    if downbeats is not None and len(downbeats):
        shown, every = beat_lines(np.asarray(downbeats))
        ax.vlines(shown, 0, 1, transform=ax.get_xaxis_transform(), color="tab:red", linewidth=1.0, alpha=0.7,
                  label="bars" if every == 1 else f"every {every}th bar")
    if chords:
        _chord_lane(ax, chords, env.duration)
    if (beats is not None and len(beats)) or (downbeats is not None and len(downbeats)):
        ax.legend(loc="lower right", fontsize="small")
    ax.set(title=title, xlabel="Time (s)", ylabel="Amplitude", xlim=(0, env.duration))
    lim = max(1e-3, float(max(np.max(np.abs(env.lo)), np.max(np.abs(env.hi)))) if len(env.t) else 1.0)
    ax.set_ylim(-1.05 * lim, 1.05 * lim)
    return fig


#: A chord is named on the waveform when it lasts at least this share of the plot (shorter ones would overlap).
MIN_CHORD_SHARE = 0.012


def _chord_lane(ax, chords, duration: float, min_share: float = MIN_CHORD_SHARE) -> None:
    """Chord names along the top of a time plot, on two alternating rows, with a faint band per chord."""
    import matplotlib.transforms

    top = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    named = [(a, b, label) for a, b, label in chords if label not in ("N", "X") and b > a]
    for k, (a, b, label) in enumerate(named):
        ax.axvspan(a, b, ymin=0.86, ymax=1.0, color="tab:green" if k % 2 else "tab:olive", alpha=0.12, linewidth=0)
        if (b - a) >= min_share * duration:
            ax.text((a + b) / 2, 0.965 if k % 2 == 0 else 0.895, label, transform=top, ha="center", va="center",
                    fontsize="x-small", clip_on=True)


#: Most beat lines a waveform draws: beyond it a full song's 500 lines paint the plot solid.
MAX_BEAT_LINES = 96


def beat_lines(beats: np.ndarray, max_lines: int = MAX_BEAT_LINES) -> tuple[np.ndarray, int]:
    """The beats to draw and the step between them: every beat, or every 4th, 8th, 16th... (bar lines in 4/4 and
    their multiples), whichever first fits under ``max_lines``."""
    every = 1
    while len(beats) / every > max_lines:
        every *= 4 if every == 1 else 2
    return beats[::every], every


def beat_waveform(env: Envelope, tempo=None, downbeats=None, chords=None) -> Figure:
    """The waveform with a ``core.tempo.Tempo``'s beat grid (None: none), the bar lines and the chord names."""
    return waveform(env, beats=tempo.beats if tempo else None, bpm=tempo.bpm if tempo else None,
                    downbeats=downbeats, chords=chords)


def analysis_figures(result, env: Envelope | None = None) -> tuple[Figure, Figure, Figure, Figure]:
    """The four time plots of a ``core.analysis.Analysis``, as the analysis tab shows them: the waveform with its
    beats, bars and chords (drawn from ``env`` when given), the log-mel spectrogram, the chroma and the ZCR."""
    sr, hop = result.sr, result.hop_length
    env = env if env is not None else envelope(result.y, sr)
    return (beat_waveform(env, result.tempo, result.downbeats, result.chord_spans()),
            spectrogram(result.log_mel, sr, hop_length=hop), chroma(result.chroma, sr, hop_length=hop),
            zcr(result.zcr, sr, hop_length=hop))


#: Most time columns an image plot draws: about two per pixel of the time axis at the figure's 100 dpi. A
#: 3-minute song has 7,750 frames; drawing them all took 0.45 s a spectrogram for nothing the eye can see.
MAX_COLUMNS = 1600


def at_resolution(M: np.ndarray, hop_length: int, max_columns: int = MAX_COLUMNS) -> tuple[np.ndarray, int]:
    """(rows, frames) → (rows, ≤ ``max_columns``) by averaging runs of whole frames, and the hop that keeps the
    time axis right (a trailing partial run is averaged on its own)."""
    k = -(-M.shape[1] // max_columns)
    if k <= 1:
        return M, hop_length
    n = M.shape[1] // k * k
    parts = [M[:, :n].reshape(M.shape[0], -1, k).mean(axis=2)]
    if n < M.shape[1]:
        parts.append(M[:, n:].mean(axis=1, keepdims=True))
    return np.concatenate(parts, axis=1), hop_length * k


def spectrogram(
    S_db: np.ndarray,
    sr: int,
    hop_length: int = features.HOP_LENGTH,
    y_axis: str = "mel",
    title: str = "Log-mel spectrogram",
) -> Figure:
    """A dB spectrogram (mel by default) with time and frequency axes."""
    import librosa.display

    fig, ax, cax = _time_figure(colorbar=True)
    S_db, hop_length = at_resolution(S_db, hop_length)
    img = librosa.display.specshow(S_db, sr=sr, hop_length=hop_length, x_axis="s", y_axis=y_axis, ax=ax, cmap="magma")
    fig.colorbar(img, cax=cax, format="%+2.0f dB")
    ax.set(title=title, xlabel="Time (s)")
    return fig


def chroma(C: np.ndarray, sr: int, hop_length: int = features.HOP_LENGTH, title: str = "Chroma") -> Figure:
    """Chromagram with pitch-class labels."""
    import librosa.display

    fig, ax, cax = _time_figure(colorbar=True)
    C, hop_length = at_resolution(C, hop_length)
    img = librosa.display.specshow(C, sr=sr, hop_length=hop_length, x_axis="s", y_axis="chroma", ax=ax, cmap="viridis")
    fig.colorbar(img, cax=cax)
    ax.set(title=title, xlabel="Time (s)")
    return fig


def zcr(z: np.ndarray, sr: int, hop_length: int = features.HOP_LENGTH, title: str = "Zero-crossing rate") -> Figure:
    """Zero-crossing rate per frame over time (frames span the same time as the spectrogram's)."""
    fig, ax, _ = _time_figure()
    t = features.frame_times(len(z), sr, hop_length)
    ax.plot(t, z, color="tab:green", linewidth=0.8)
    ax.set(title=title, xlabel="Time (s)", ylabel="Crossings / sample", xlim=(0, max(len(z) * hop_length / sr, 1e-3)))
    return fig


def confusion(cm: np.ndarray, labels: Sequence[str], normalize: bool = False, title: str | None = None) -> Figure:
    """Confusion matrix (rows: true, columns: predicted), in counts or row percent."""
    cm = np.asarray(cm, dtype=float)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) * 100 if normalize else cm
    size = max(4.0, 0.6 * len(labels) + 2)
    fig, ax = _figure((size + 1, size))
    img = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(img, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="Predicted", ylabel="True",
           title=title or ("Confusion matrix (%)" if normalize else "Confusion matrix"))
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            text = f"{shown[i, j]:.0f}" if not normalize else f"{shown[i, j]:.1f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > threshold else "black")
    return fig


def curves(history: Mapping[str, Sequence[float]], xlabel: str = "Epoch", title: str = "Training curves") -> Figure:
    """Training curves: keys containing 'acc' go on a second panel, the rest (losses) on the first; a "step" list,
    when there is one, is the x axis."""
    x = history.get("step")
    losses = {k: v for k, v in history.items() if "acc" not in k.lower() and k != "step"}
    accs = {k: v for k, v in history.items() if "acc" in k.lower()}
    panels = [p for p in (losses, accs) if p]
    fig = Figure(figsize=(5 * max(1, len(panels)), 3.2), layout="constrained")
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for name, values in panel.items():
            ax.plot(x if x is not None and len(x) == len(values) else np.arange(1, len(values) + 1), values, label=name)
        ax.set(xlabel=xlabel, ylabel="Accuracy" if panel is accs else "Loss")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def piano_roll(pm, fs: int = 50, title: str = "Piano roll") -> Figure:
    """Piano roll of a ``pretty_midi.PrettyMIDI``: one colour per non-drum track (named in a legend when there are
    several, e.g. melody, chords and bass), drums left out. ``fs`` is kept for callers; notes are drawn as bars."""
    fig, ax = _figure()
    tracks = [inst for inst in pm.instruments if not inst.is_drum and inst.notes]
    pitches = [n.pitch for inst in tracks for n in inst.notes]
    lo, hi = (min(pitches) - 2, max(pitches) + 3) if pitches else (48, 72)
    palette = matplotlib.colormaps["tab10"]
    for k, inst in enumerate(tracks):
        color = "black" if len(tracks) == 1 else palette(k % 10)
        for note in inst.notes:
            ax.broken_barh([(note.start, max(note.end - note.start, 1e-3))], (note.pitch - 0.4, 0.8), color=color)
        if len(tracks) > 1:
            ax.plot([], [], color=color, lw=6, label=inst.name or pretty_midi_program(inst.program))
    end = max((n.end for inst in tracks for n in inst.notes), default=1.0)
    ax.set(title=title, xlabel="Time (s)", ylabel="Pitch", xlim=(0, end), ylim=(lo - 0.5, hi - 0.5))
    ticks = [p for p in range(max(lo, 0), hi) if p % 12 in (0, 4, 7)] or list(range(max(lo, 0), hi, 2))
    ax.set_yticks(ticks, [pretty_midi_name(p) for p in ticks])  # note names, not 72.5 / 77.5
    if len(tracks) > 1:
        ax.legend(loc="upper right", fontsize=8)
    return fig


def pretty_midi_program(program: int) -> str:
    import pretty_midi

    return pretty_midi.program_to_instrument_name(int(program))


def pretty_midi_name(pitch: int) -> str:
    """MIDI pitch as a note name with octave (60 -> C4)."""
    return f"{PITCH_CLASSES[pitch % 12]}{pitch // 12 - 1}"


def class_colors(labels: Sequence[str]) -> dict[str, tuple]:
    """One colour per class, the same in every plot of a tab (the i-th class gets tab10's i-th colour)."""
    palette = matplotlib.colormaps["tab10"]
    return {label: palette(i % 10) for i, label in enumerate(labels)}


def timeline(
    segments: Sequence[tuple[float, float, str]],
    duration: float,
    title: str = "Timeline",
    colors: Mapping[str, str] | None = None,
) -> Figure:
    """Labelled spans on a time axis: (start, end, label) per segment, one colour per label."""
    fig, ax = _figure((10, 1.8))
    labels = list(dict.fromkeys(label for _, _, label in segments))
    palette = matplotlib.colormaps["tab10"]
    colors = dict(colors or {})
    for i, label in enumerate(labels):
        colors.setdefault(label, palette(i % 10))
    for start, end, label in segments:
        ax.axvspan(start, end, color=colors[label], alpha=0.85, linewidth=0)
    handles = [matplotlib.patches.Patch(color=colors[label], label=label) for label in labels]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=min(len(handles), 8),
                  frameon=False)
    ax.set(title=title, xlabel="Time (s)", xlim=(0, duration), yticks=[])
    return fig


def save(fig: Figure, path, dpi: int = 100) -> str:
    """Write a figure to disk (PNG by extension) and return the path."""
    fig.savefig(str(path), dpi=dpi)
    return str(path)


def bars(labels: Sequence[str], values: Sequence[float], title: str = "Probabilities",
         xlabel: str = "Probability") -> Figure:
    """Horizontal bar chart, largest on top, with the values written at the bars' ends."""
    order = np.argsort(values)
    fig, ax = _figure((7, 0.45 * len(labels) + 1.2))
    ax.barh([labels[i] for i in order], [values[i] for i in order], color="tab:blue")
    for y, i in enumerate(order):
        ax.text(values[i], y, f" {values[i]:.0%}" if max(values) <= 1 else f" {values[i]:.2f}", va="center", fontsize=9)
    right = max(1.0, max(values) * 1.15) if max(values) <= 1 else max(values) * 1.15
    ax.set(title=title, xlabel=xlabel, xlim=(0, right))
    return fig


def probabilities(times: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                  title: str = "Probability over time") -> Figure:
    """One curve per class: probs has shape (windows, classes), times the windows' centres in seconds."""
    fig, ax = _figure()
    colors = class_colors(labels)
    for i, label in enumerate(labels):
        ax.plot(times, probs[:, i], label=label, color=colors[label], linewidth=1.2)
    ax.set(title=title, xlabel="Time (s)", ylabel="Probability", ylim=(0, 1.02))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=min(len(labels), 4), frameon=False, fontsize=8)
    return fig


def taggram(names: Sequence[str], values: np.ndarray, starts: np.ndarray, patch_seconds: float = 3.0,
            title: str = "Tags over time (taggram)") -> Figure:
    """(tags, patches) tag probabilities as a heat map: one row per tag, one column per 3 s patch."""
    values = np.asarray(values, dtype=np.float32)
    fig, ax = _figure((10, max(2.2, 0.28 * len(names) + 1.0)))
    end = float(starts[-1]) + patch_seconds if len(starts) else patch_seconds
    im = ax.imshow(values, aspect="auto", origin="upper", cmap="magma", vmin=0,
                   vmax=max(0.5, float(values.max(initial=0))),
                   extent=(0, end, len(names) - 0.5, -0.5), interpolation="nearest")
    ax.set_yticks(range(len(names)), list(names), fontsize=8)
    ax.set(title=title, xlabel="Time (s)")
    fig.colorbar(im, ax=ax, label="probability", pad=0.01)
    return fig
