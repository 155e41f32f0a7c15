"""Accompaniment for a generated melody: chords that harmonise it bar by bar, a bass line and drums in a style.

    pm = arrange(melody_pm, tempo=120, style="folk")    # the melody plus chords, bass and drums tracks

The chords are chosen by rule, bar by bar: of the key's diatonic triads, the one whose notes the melody holds
longest in that bar (tonic, subdominant and dominant preferred on a tie; the last bar resolves to the tonic).
The key comes from the melody's pitch-class durations (Krumhansl–Kessler, ``core.key``). Drum patterns for pop,
waltz and ballad are the genre corpus's (``core.data.arranger.drums``); folk and reel have their own here.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from core import validate
from core.data import arranger

#: The styles the tab offers ("melody" = no accompaniment), their bar length in beats, and their instruments.
STYLES = {
    "melody": None,
    "folk": dict(meter=4, chords=25, bass=32, drums="folk", pattern="strum"),  # steel guitar, acoustic bass
    "pop": dict(meter=4, chords=0, bass=33, drums="rock", pattern="block"),  # piano, finger bass, backbeat
    "waltz": dict(meter=3, chords=21, bass=32, drums="ballad", pattern="oompah"),  # accordion, oom-pah-pah
    "reel": dict(meter=4, chords=24, bass=32, drums="reel", pattern="strum"),  # nylon guitar, driving snare
    "ballad": dict(meter=4, chords=0, bass=32, drums="ballad", pattern="arpeggio"),  # piano arpeggios
}
MAJOR = [(0, "maj"), (2, "min"), (4, "min"), (5, "maj"), (7, "maj"), (9, "min")]
MINOR = [(0, "min"), (3, "maj"), (5, "min"), (7, "maj"), (8, "maj"), (10, "maj")]
PRIMARY = {0, 5, 7}  # I, IV, V (i, iv, V): preferred when two chords fit a bar equally


@dataclass
class Harmony:
    tonic: int  # pitch class 0-11
    mode: str  # "major" or "minor"
    chords: list  # per bar: (root pitch class, quality)


def _melody_notes(pm):
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise ValueError("The piece has no notes to accompany.")
    return notes


def harmonise(pm, tempo: float, meter: int = 4) -> Harmony:
    """The key of the melody and one diatonic chord per bar of ``meter`` beats at ``tempo``."""
    from core.key import PITCH_CLASSES, estimate

    notes = _melody_notes(pm)
    beat = 60.0 / tempo
    profile = np.zeros((12, 1))
    for n in notes:
        profile[n.pitch % 12, 0] += n.end - n.start
    key = estimate(profile)
    tonic, mode = (PITCH_CLASSES.index(key.tonic), key.mode) if key is not None else (notes[0].pitch % 12, "major")
    candidates = MAJOR if mode == "major" else MINOR
    bar_s = meter * beat
    n_bars = max(1, int(np.ceil(max(n.end for n in notes) / bar_s - 1e-6)))
    chords = []
    for bar in range(n_bars):
        a, b = bar * bar_s, (bar + 1) * bar_s
        held = np.zeros(12)
        for n in notes:
            overlap = min(n.end, b) - max(n.start, a)
            if overlap > 0:
                held[n.pitch % 12] += overlap
        def fit(c):
            pcs = {(tonic + c[0] + i) % 12 for i in arranger.CHORD[c[1]]}
            return sum(held[pc] for pc in pcs) + (0.05 * bar_s if c[0] in PRIMARY else 0.0)
        best = max(candidates, key=fit) if held.sum() > 0 and bar < n_bars - 1 else candidates[0]
        chords.append(((tonic + best[0]) % 12, best[1]))
    return Harmony(tonic, mode, chords)


def _play(inst, pitch, start, dur, vel):
    import pretty_midi

    inst.notes.append(pretty_midi.Note(int(np.clip(vel, 1, 127)), int(pitch), float(start),
                                       float(start + max(dur, 0.05))))


def _drums(style: str, bars: int, meter: int, beat: float, rng: random.Random, inst) -> None:
    if style in ("folk", "reel"):
        for bar in range(bars):
            t0 = bar * meter * beat
            hits = [(arranger.KICK, 0, 80), (arranger.KICK, 2, 70)] if style == "folk" else \
                   [(arranger.KICK, b, 85) for b in range(meter)]
            hits += [(arranger.SHAKER if style == "folk" else arranger.SNARE, b / 2, 45 if style == "folk" else 55)
                     for b in range(meter * 2)]
            for note, pos, vel in hits:
                _play(inst, note, t0 + pos * beat, 0.1, vel)
    else:
        arranger.drums(style, bars, meter, beat, 0.5, rng, inst)


def arrange(pm, tempo: float, style: str = "folk", seed: int = 0):
    """``pm`` (the melody) with chords, bass and drums added in ``style``; "melody" returns it unchanged."""
    import pretty_midi

    validate.choice(style, "arrangement", STYLES)
    spec = STYLES[style]
    if spec is None:
        return pm
    beat, meter = 60.0 / tempo, spec["meter"]
    harmony = harmonise(pm, tempo, meter)
    chords = pretty_midi.Instrument(program=spec["chords"], name="chords")
    bass = pretty_midi.Instrument(program=spec["bass"], name="bass")
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    for bar, (root, quality) in enumerate(harmony.chords):
        t0 = bar * meter * beat
        voicing = arranger.chord_pitches(root, 0, quality, low=52)
        low_root = 36 + (root - 36) % 12  # C2..B2
        pattern = spec["pattern"]
        if pattern == "block":
            for p in voicing:
                _play(chords, p, t0, meter * beat * 0.95, 62)
        elif pattern == "strum":
            for b in range(meter):
                for k, p in enumerate(voicing):
                    _play(chords, p, t0 + b * beat + 0.012 * k, beat * 0.8, 58 if b % 2 else 66)
        elif pattern == "oompah":
            for b in range(1, meter):
                for p in voicing:
                    _play(chords, p, t0 + b * beat, beat * 0.6, 58)
        else:  # arpeggio
            for k in range(meter * 2):
                _play(chords, voicing[k % len(voicing)], t0 + k * beat / 2, beat * 0.9, 55)
        fifth = low_root + 7
        steps = [(0, low_root), (2, fifth)] if meter == 4 else [(0, low_root)]
        if style == "reel":
            steps = [(b, low_root if b % 2 == 0 else fifth) for b in range(meter)]
        for pos, p in steps:
            _play(bass, p, t0 + pos * beat, beat * (0.9 if style == "reel" else 1.8), 80)
    _drums(spec["drums"], len(harmony.chords), meter, beat, random.Random(seed), drums)
    for inst in pm.instruments:  # named by role: the MIDI file's tracks and the piano roll's legend
        inst.name = "melody"
    pm.instruments += [chords, bass, drums]
    _bars_in_file(pm, meter)
    return pm


def _bars_in_file(pm, meter: int) -> None:
    """The file's time signature is the band's bars (``meter``/4), unless the melody's own has bars as long
    (a 6/8 tune under the waltz keeps 6/8): a waltz written as 4/4 would put its bar lines mid-bar."""
    import pretty_midi

    from core.generation.api import bar_quarters

    ts = pm.time_signature_changes[:1]
    if not ts or bar_quarters(ts[0].numerator, ts[0].denominator) != meter:
        pm.time_signature_changes = [pretty_midi.TimeSignature(meter, 4, 0.0)]
