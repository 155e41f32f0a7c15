"""Procedural genre arranger: genre idioms → ``pretty_midi`` pieces (the bundled genre corpus).

Each genre is a small recipe — tempo range, meter and swing, a General MIDI drum
pattern, a bass line, a chord vocabulary and voicing, and instrument choices —
and :func:`arrange` draws one piece from it. Tunes are real folk melodies from
music21's corpus (cached by ``core.data.corpus``) and, for classical, Bach
chorales where music21 has them. Everything is drawn from wide, overlapping
ranges so that no single cue (tempo, one instrument) decides the genre.

:func:`mix` adds varied room, compression, EQ and level with pedalboard.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

GENRES = ("ballad", "classical", "hiphop", "house", "jazz", "rock", "techno")

# General MIDI drum notes
KICK, SNARE, RIM, CLAP, HH_CLOSED, HH_PEDAL, HH_OPEN, CRASH, RIDE, SHAKER, TOM_LO, TOM_HI = (
    36, 38, 37, 39, 42, 44, 46, 49, 51, 70, 45, 48,
)

#: Tempo (BPM) ranges, deliberately overlapping (house/techno/rock share 120–135, ballad/hip-hop/classical 70–95).
TEMPO = {
    "ballad": (58, 92), "classical": (60, 140), "hiphop": (78, 102), "house": (116, 130),
    "jazz": (84, 210), "rock": (96, 168), "techno": (122, 148),
}
#: Tempo range used by every genre in the tempo-equalised ablation.
EQUAL_TEMPO = (100, 124)

# Programs (0-based GM) per role, per genre
PROGRAMS = {
    "ballad": {"chords": [0, 1, 48, 49, 88, 89, 24, 4], "bass": [32, 33, 35], "lead": [53, 73, 0, 52, 40, 71]},
    "classical": {"chords": [0, 6, 48, 49, 19, 46], "bass": [42, 43, 32], "lead": [40, 73, 68, 71, 41, 0, 60]},
    "hiphop": {"chords": [4, 5, 0, 48, 89, 11], "bass": [33, 38, 39, 34], "lead": [73, 4, 11, 80, 56]},
    "house": {"chords": [0, 16, 17, 4, 89, 90, 50], "bass": [38, 39, 33, 87], "lead": [80, 81, 0, 54, 82]},
    "jazz": {"chords": [0, 4, 26, 11, 1], "bass": [32, 33], "lead": [65, 66, 64, 56, 57, 11, 73, 26]},
    "rock": {"chords": [29, 30, 27, 25], "bass": [33, 34, 35], "lead": [29, 30, 81, 27, 16]},
    "techno": {"chords": [81, 90, 91, 94, 50, 62], "bass": [38, 39, 87, 81], "lead": [80, 81, 84, 87, 98]},
}

# Chord progressions as (root degree in semitones from the tonic, quality)
PROGRESSIONS = {
    "ballad": [[(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")], [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],
               [(0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")]],
    "classical": [[(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")], [(0, "maj"), (9, "min"), (2, "min"), (7, "7")],
                  [(0, "min"), (5, "min"), (7, "7"), (0, "min")], [(0, "maj"), (7, "maj"), (9, "min"), (4, "min")]],
    "hiphop": [[(0, "min7"), (8, "maj7"), (5, "min7"), (7, "min7")], [(0, "min7"), (5, "min7")],
               [(0, "min9"), (3, "maj7"), (8, "maj7"), (7, "7")]],
    "house": [[(0, "min7"), (5, "min7"), (3, "maj7"), (8, "maj7")], [(0, "maj7"), (2, "min7")],
              [(0, "min9"), (10, "maj"), (8, "maj7"), (10, "maj")]],
    "jazz": [[(2, "min7"), (7, "7"), (0, "maj7"), (9, "7")], [(0, "maj7"), (9, "min7"), (2, "min7"), (7, "7")],
             [(4, "min7"), (9, "7"), (2, "min7"), (7, "7")], [(0, "6"), (3, "dim"), (2, "min7"), (7, "7b9")]],
    "rock": [[(0, "5"), (10, "5"), (5, "5"), (0, "5")], [(0, "5"), (5, "5"), (7, "5"), (5, "5")],
             [(0, "5"), (3, "5"), (5, "5"), (3, "5")]],
    "techno": [[(0, "min")], [(0, "min"), (0, "min"), (3, "maj"), (0, "min")], [(0, "sus")]],
}
CHORD = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "5": (0, 7, 12), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10), "min9": (0, 3, 7, 10, 14), "6": (0, 4, 7, 9), "dim": (0, 3, 6, 9),
    "7b9": (0, 4, 10, 13), "sus": (0, 5, 7),
}


@dataclass
class Piece:
    genre: str
    midi: object  # pretty_midi.PrettyMIDI
    tempo: float
    meter: int  # beats per bar
    tune: str
    instruments: list[str] = field(default_factory=list)


def _note(inst, pitch, start, dur, vel, rng):
    import pretty_midi

    # small timing/velocity humanisation: a grid-perfect corpus is one more shortcut cue
    t = max(0.0, start + rng.gauss(0, 0.006))
    inst.notes.append(pretty_midi.Note(int(np.clip(vel + rng.randint(-8, 8), 1, 127)), int(pitch), t,
                                       t + max(dur, 0.03)))


def _swing(beat_pos: float, swing: float) -> float:
    """Delay off-beat eighths: swing 0.5 is straight, 0.66 triplet swing."""
    whole, frac = divmod(beat_pos, 1.0)
    if abs(frac - 0.5) < 1e-6:
        frac = swing
    return whole + frac


def drums(genre: str, bars: int, meter: int, beat: float, swing: float, rng: random.Random, inst) -> None:
    """One GM drum pattern per genre (with variations), written into ``inst`` (is_drum=True)."""
    style = rng.random()
    for bar in range(bars):
        t0 = bar * meter * beat
        fill = bar % 4 == 3 and rng.random() < 0.5
        hits: list[tuple[int, float, int]] = []  # (note, position in beats, velocity)
        if genre in ("house", "techno"):
            hits += [(KICK, b, 110) for b in range(meter)]  # four-on-the-floor
            hits += [(HH_OPEN if genre == "house" else HH_CLOSED, b + 0.5, 80) for b in range(meter)]
            if genre == "house":
                hits += [(CLAP, 1, 95), (CLAP, 3, 95)]
                if style < 0.6:
                    hits += [(SHAKER, b / 4, 50) for b in range(16)]
            else:
                hits += [(HH_CLOSED, b / 4, 55) for b in range(16) if b % 2]
                if style < 0.5:
                    hits += [(RIM, b, 70) for b in (1.75, 3.25)]
                if style > 0.7:
                    hits += [(CLAP, 1, 80), (CLAP, 3, 80)]
        elif genre == "hiphop":  # boom-bap
            hits += [(KICK, 0, 110), (KICK, 1.75 if style < 0.5 else 2.5, 95), (KICK, 2.25, 100)]
            hits += [(SNARE, 1, 105), (SNARE, 3, 105)]
            hits += [(HH_CLOSED, b / 2, 70 if b % 2 == 0 else 50) for b in range(8)]
        elif genre == "rock":  # backbeat
            hits += [(KICK, 0, 110), (KICK, 2, 105)] + ([(KICK, 2.5, 90)] if style < 0.5 else [])
            hits += [(SNARE, 1, 110), (SNARE, 3, 110)]
            cym = RIDE if style > 0.7 else HH_CLOSED
            hits += [(cym, b / 2, 80) for b in range(8)]
            if bar % 8 == 0:
                hits.append((CRASH, 0, 100))
            if fill:
                hits += [(TOM_HI, 3, 90), (TOM_HI, 3.25, 85), (TOM_LO, 3.5, 90), (TOM_LO, 3.75, 95)]
        elif genre == "jazz":  # swing ride, feathered kick, hi-hat on 2 and 4
            for b in range(meter):
                hits.append((RIDE, b, 80))
                if b % 2 == 1:
                    hits.append((RIDE, b + 0.5, 65))
                    hits.append((HH_PEDAL, b, 60))
                hits.append((KICK, b, 30))
            if rng.random() < 0.4:
                hits.append((SNARE, rng.choice([1.5, 2.5, 3.5]) % meter, 50))
        elif genre == "ballad":  # soft: rim or brushed snare, sparse kick
            hits += [(KICK, 0, 70)] + ([(KICK, 2.5, 55)] if meter == 4 else [])
            hits += [(RIM if style < 0.5 else SNARE, b, 55) for b in range(1, meter, 2)]
            hits += [(HH_CLOSED, b / 2, 40) for b in range(meter * 2)]
        for note, pos, vel in hits:
            if pos >= meter:
                continue
            pos = _swing(pos, swing)
            _note(inst, note, t0 + pos * beat, 0.1, vel, rng)


def chord_pitches(tonic: int, degree: int, quality: str, low: int = 52) -> list[int]:
    """Close voicing of a chord above ``low`` (MIDI)."""
    root = tonic + degree
    while root < low:
        root += 12
    while root >= low + 12:
        root -= 12
    return [root + i for i in CHORD[quality]]


def arrange(genre: str, seed: int, tune_events: list | None = None, seconds: float = 20.0,
            tempo_range: tuple[float, float] | None = None, chorale=None) -> Piece:
    """Draw one piece of ``genre``. ``tune_events``: (pitch or -1, quarter length) for the lead.

    ``tempo_range`` overrides the genre's own (the tempo-equalised ablation);
    ``chorale`` (a list of parts of (pitch, start_ql, dur_ql)) replaces the procedural
    classical arrangement with a real four-part piece.
    """
    import pretty_midi

    if genre not in GENRES:
        raise ValueError(f"Unknown genre {genre!r}; expected one of {', '.join(GENRES)}.")
    rng = random.Random(f"{genre}:{seed}")
    lo, hi = tempo_range or TEMPO[genre]
    tempo = rng.uniform(lo, hi)
    beat = 60.0 / tempo
    meter = 4
    if genre in ("classical", "jazz", "ballad") and rng.random() < 0.3:
        meter = 3  # waltz / minuet / 6-8 ballad feel
    swing = (rng.uniform(0.6, 0.68) if genre == "jazz"
             else (rng.uniform(0.5, 0.58) if genre in ("hiphop", "house") else 0.5))
    bars = int(np.ceil(seconds / (meter * beat)))
    tonic = rng.randint(0, 11)
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    progs = PROGRAMS[genre]
    names: list[str] = []

    def instrument(role, program=None, is_drum=False):
        program = rng.choice(progs[role]) if program is None else program
        inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=role)
        pm.instruments.append(inst)
        names.append("drums" if is_drum else pretty_midi.program_to_instrument_name(program))
        return inst

    if genre == "classical" and chorale is not None:
        # A real chorale, each voice on its own (or a shared) instrument: strings, organ or winds.
        ensemble = rng.choice([[48, 48, 48, 48], [40, 41, 42, 43], [19] * 4, [73, 68, 71, 70], [0] * 4, [6] * 4])
        for part, program in zip(chorale, ensemble):
            inst = instrument("lead", program)
            for pitch, start, dur in part:
                if start * beat < seconds:
                    _note(inst, pitch + (tonic % 5) - 2, start * beat, dur * beat * 0.95, 80, rng)
        return Piece(genre, pm, tempo, meter, "bach chorale", names)

    # drums
    if genre != "classical" and not (genre == "ballad" and rng.random() < 0.3):
        drums(genre, bars, meter, beat, swing, rng, instrument("drums", 0, is_drum=True))

    progression = rng.choice(PROGRESSIONS[genre])
    chords = instrument("chords")
    bass = instrument("bass")
    bass_oct = 28 if genre in ("house", "techno", "hiphop") else 33
    for bar in range(bars):
        degree, quality = progression[bar % len(progression)]
        t0 = bar * meter * beat
        pitches = chord_pitches(tonic, degree, quality, low=rng.choice([50, 55]) if genre != "rock" else 40)
        root = bass_oct + (tonic + degree) % 12
        # chords: the rhythm of the comping is the genre's
        if genre == "jazz":  # comping on syncopated off-beats; walking bass
            for pos in rng.sample([0, 1.5, 2.5, 3.5, 1, 2][:meter + 1], 2):
                if pos < meter:
                    for p in pitches:
                        _note(chords, p, t0 + _swing(pos, swing) * beat, 0.4 * beat, 70, rng)
            walk = [root, root + rng.choice([2, 3, 4]), root + 7, root + rng.choice([5, 8, 10, 11, -1])]
            for b in range(meter):
                _note(bass, walk[b % 4], t0 + b * beat, 0.9 * beat, 85, rng)
        elif genre in ("house", "techno"):  # off-beat stabs, pumping off-beat bass
            stabs = [b + 0.5 for b in range(meter)] if rng.random() < 0.6 else [0, 0.75, 2.5]
            for pos in stabs:
                for p in pitches:
                    _note(chords, p + 12, t0 + _swing(pos, swing) * beat, 0.2 * beat, 85, rng)
            for b in range(meter):
                _note(bass, root + (12 if genre == "techno" and b % 2 else 0), t0 + (b + 0.5) * beat, 0.4 * beat, 100,
                      rng)
        elif genre == "hiphop":  # held 7th chords, syncopated bass
            for p in pitches:
                _note(chords, p, t0, meter * beat * 0.95, 65, rng)
            for pos in (0, 1.75, 2.25):
                _note(bass, root, t0 + pos * beat, 0.6 * beat, 100, rng)
        elif genre == "rock":  # driving eighth-note power chords and bass
            for e in range(meter * 2):
                for p in pitches:
                    _note(chords, p, t0 + e * beat / 2, 0.45 * beat, 100, rng)
                _note(bass, root, t0 + e * beat / 2, 0.45 * beat, 95, rng)
        elif genre == "ballad":  # arpeggios or long chords, bass on 1 (and 3)
            if rng.random() < 0.5 or meter == 3:
                arp = pitches + [pitches[1] + 12]
                for e in range(meter * 2):
                    _note(chords, arp[e % len(arp)], t0 + e * beat / 2, beat, 60, rng)
            else:
                for p in pitches:
                    _note(chords, p, t0, meter * beat, 55, rng)
            _note(bass, root, t0, 1.8 * beat, 75, rng)
            if meter == 4:
                _note(bass, root + 7, t0 + 2 * beat, 1.8 * beat, 65, rng)
        else:  # classical: Alberti bass / broken chords, bass on the downbeat
            alberti = [pitches[0], pitches[2], pitches[1], pitches[2]]
            for e in range(meter * 2):
                _note(chords, alberti[e % 4], t0 + e * beat / 2, 0.5 * beat, 60, rng)
            _note(bass, root + 12, t0, meter * beat * 0.9, 70, rng)

    # lead: the folk tune, phrased in the genre's register (techno: a short repeated riff)
    lead = instrument("lead")
    events = list(tune_events or [(60 + rng.choice([0, 2, 4, 7]), 1.0) for _ in range(32)])
    if genre == "techno":
        riff = [(p, 0.5) for p, _ in events[:4] if p >= 0] or [(60, 0.5)]
        events = riff * 64
    elif genre in ("house", "hiphop"):
        events = [(p if rng.random() < 0.7 else -1, d) for p, d in events]  # sparser hooks
    octave = {"rock": 0, "jazz": 0, "techno": 0, "hiphop": 0}.get(genre, 12 if rng.random() < 0.3 else 0)
    t = meter * beat * rng.choice([0, 1, 2])  # enter after an intro
    i = 0
    while t < seconds and events:
        pitch, ql = events[i % len(events)]
        dur = ql * beat
        if pitch >= 0:
            start = t if genre != "jazz" else _swing(t / beat, swing) * beat
            _note(lead, pitch + tonic - 12 * (tonic > 6) + octave, start, dur * 0.9, 90, rng)
        t += dur
        i += 1
    for inst in pm.instruments:
        inst.notes = [n for n in inst.notes if n.start < seconds]
    return Piece(genre, pm, tempo, meter, "folk tune", names)


def load_chorales(n: int = 20) -> list[list[list[tuple[int, float, float]]]]:
    """Up to ``n`` Bach chorales from music21 as parts of (pitch, start_ql, dur_ql)."""
    import warnings

    from music21 import corpus

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in corpus.getComposer("bach")[: n * 3]:
            if len(out) >= n:
                break
            try:
                score = corpus.parse(path)
                parts = []
                for part in score.parts[:4]:
                    notes = [(int(nt.pitch.midi), float(nt.offset), float(nt.quarterLength))
                             for nt in part.flatten().notes if hasattr(nt, "pitch")]
                    if notes:
                        parts.append(notes)
                if len(parts) >= 3:
                    out.append(parts)
            except Exception:  # a few corpus files are not chorales or fail to parse: skip them
                continue
    return out


def mix(y: np.ndarray, sr: int, seed: int, distortion: bool = False) -> np.ndarray:
    """Varied production: room reverb, compression, EQ tilt and level (pedalboard)."""
    import pedalboard as pb

    rng = random.Random(seed)
    chain = []
    if distortion:
        chain.append(pb.Distortion(drive_db=rng.uniform(4, 14)))
    chain += [
        pb.HighpassFilter(cutoff_frequency_hz=rng.uniform(20, 120)),
        pb.LowpassFilter(cutoff_frequency_hz=rng.uniform(5000, 10000)),
        pb.Compressor(threshold_db=rng.uniform(-24, -8), ratio=rng.uniform(1.5, 6)),
        pb.Reverb(room_size=rng.uniform(0.05, 0.8), wet_level=rng.uniform(0.05, 0.35), dry_level=0.8),
    ]
    out = pb.Pedalboard(chain)(y.astype(np.float32)[None, :], sr)[0]
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / peak * rng.uniform(0.3, 0.95)).astype(np.float32)
