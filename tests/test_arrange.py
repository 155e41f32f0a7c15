"""Accompaniment: chords that fit the melody bar by bar, a bass on their roots, drums in the chosen style."""
import pretty_midi
import pytest

from core.generation import api as gen
from core.generation.arrange import STYLES, arrange, harmonise


def _melody(bars, tempo=120.0):
    """One bar per chord: each bar holds that chord's three notes (C major: C-E-G, F-A-C, G-B-D)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(program=73)
    beat = 60 / tempo
    for b, pitches in enumerate(bars):
        for k, p in enumerate(pitches):
            inst.notes.append(pretty_midi.Note(90, p, (4 * b + k) * beat, (4 * b + k + 1) * beat))
    pm.instruments.append(inst)
    return pm


def test_each_bar_gets_the_diatonic_chord_its_melody_spells_and_the_end_resolves():
    bars = [(60, 64, 67, 72), (65, 69, 72, 77), (67, 71, 74, 79), (64, 67, 72, 76), (67, 71, 74, 71)]
    h = harmonise(_melody(bars), 120)
    assert (h.tonic, h.mode) == (0, "major")
    assert h.chords == [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj"), (0, "maj")]  # C F G C, last bar: tonic


@pytest.mark.parametrize("style", [s for s in STYLES if s != "melody"])
def test_every_style_adds_chords_bass_and_drums_on_the_bars(style):
    pm = arrange(_melody([(60, 64, 67, 72)] * 4), 120, style)
    names = [i.name for i in pm.instruments]
    assert names == ["melody", "chords", "bass", "drums"] and pm.instruments[-1].is_drum
    bass = pm.instruments[2].notes
    bar_s = STYLES[style]["meter"] * 0.5
    assert all(n.pitch % 12 in (0, 7) for n in bass) and bass[0].start == 0  # C chord: root, and fifth on 3
    assert max(n.end for n in pm.instruments[1].notes) <= 4 * 2.0 + bar_s + 0.01


def test_compose_arranges_renders_and_reports_every_track():
    piece = gen.compose("markov", seconds=8, seed=2, tempo=120, arrangement="folk")
    assert {n["track"] for n in piece.to_dict()["notes"]} == {"melody", "chords", "bass", "drums"}
    assert {n["track"] for n in gen.compose("markov", seconds=8, seed=2, tempo=120).to_dict()["notes"]} == {"melody"}
    with pytest.raises(ValueError, match="arrangement"):
        gen.compose("markov", seconds=8, arrangement="polka")
