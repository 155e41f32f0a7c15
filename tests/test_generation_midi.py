"""Exported MIDI: every file (melody, arrangement, transcribed primer) carries its meter, key, tempo and track
names, read back by pretty_midi and by music21 as a notation program would."""
import pretty_midi
import pytest

from core.generation import api as gen
from core.generation import transcribe as T


def _read_back(pm, tmp_path, name="piece.mid"):
    """The file as pretty_midi and music21 read it: (pretty_midi, music21 score)."""
    import music21

    path = tmp_path / name
    pm.write(str(path))
    return pretty_midi.PrettyMIDI(str(path)), music21.converter.parse(str(path))


def _music21_meta(score):
    """(time signature, key tonic, tempo, part names) as music21 reads them."""
    ts = score.recurse().getElementsByClass("TimeSignature")
    ks = score.recurse().getElementsByClass("KeySignature")
    tempo = score.metronomeMarkBoundaries()[0][2].number
    key = ks[0].asKey(ks[0].mode or "major") if ks else None
    return ts[0].ratioString if ts else None, key.tonic.name if key else None, tempo, [p.partName for p in score.parts]


def test_a_waltz_in_g_is_written_in_3_4_in_g_at_its_tempo_with_named_tracks(tmp_path):
    piece = gen.compose("lstm", seconds=8, seed=0, tempo=90, arrangement="waltz", meter="3/4", key="G")
    pm, score = _read_back(piece.midi, tmp_path)
    assert [(t.numerator, t.denominator, t.time) for t in pm.time_signature_changes] == [(3, 4, 0.0)]
    (ks,) = pm.key_signature_changes
    assert ks.key_number % 12 == 7  # G (major 7, minor 19)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(90, abs=0.01)
    assert [i.name for i in pm.instruments] == ["melody", "chords", "bass", "drums"]
    meter, tonic, tempo, parts = _music21_meta(score)
    assert (meter, tonic) == ("3/4", "G") and tempo == pytest.approx(90, abs=0.01)
    assert {"melody", "chords", "bass"} <= set(parts)


def test_the_waltz_band_has_the_model_write_in_3_4_when_the_meter_is_left_at_any(tmp_path):
    piece = gen.compose("gan", seconds=6, seed=1, tempo=120, arrangement="waltz")
    pm, score = _read_back(piece.midi, tmp_path)
    assert (pm.time_signature_changes[0].numerator, pm.time_signature_changes[0].denominator) == (3, 4)
    assert any("3/4" in n and "waltz" in n for n in piece.notices)
    assert _music21_meta(score)[0] == "3/4"


def test_a_melody_keeps_the_meter_it_was_written_in_and_the_key_its_notes_are_in(tmp_path):
    pm, score = _read_back(gen.generate("lstm", seconds=8, seed=2, tempo=132, meter="6/8", key="D"), tmp_path)
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(6, 8)]
    assert pm.key_signature_changes[0].key_number % 12 == 2  # D
    assert pm.get_tempo_changes()[1][0] == pytest.approx(132, abs=0.01)
    assert pm.instruments[0].name == "Flute"
    meter, tonic, tempo, parts = _music21_meta(score)
    assert (meter, tonic, parts) == ("6/8", "D", ["Flute"]) and tempo == pytest.approx(132, abs=0.01)


def test_a_meter_the_model_drew_is_the_files_and_a_baseline_is_written_in_4_4(tmp_path):
    told = []
    pm = gen.generate("lstm", seconds=8, seed=3, notices=told)
    drawn = told[0].split("meter ")[1].split(",")[0].rstrip(".")
    assert f"{pm.time_signature_changes[0].numerator}/{pm.time_signature_changes[0].denominator}" == \
        "/".join(map(str, gen.time_signature(drawn)))
    markov, _ = _read_back(gen.generate("markov", seconds=6, seed=0), tmp_path)
    assert [(t.numerator, t.denominator) for t in markov.time_signature_changes] == [(4, 4)]
    assert len(markov.key_signature_changes) == 1


def test_a_band_with_other_bars_than_the_chosen_meter_marks_its_own_and_says_so():
    piece = gen.compose("lstm", seconds=6, seed=0, arrangement="folk", meter="3/4")
    assert (piece.midi.time_signature_changes[0].numerator, piece.midi.time_signature_changes[0].denominator) == (4, 4)
    assert any("folk band plays 4/4" in n and "3/4 melody" in n for n in piece.notices)


def test_the_transcribed_primer_carries_its_key_tempo_meter_and_a_track_name(tmp_path):
    g_major = [67, 71, 74, 79, 78, 74, 72, 71, 69, 66, 67, 62, 67]
    t = T.Transcription([(0.4 * i, 0.4 * i + 0.35, p, 0.7) for i, p in enumerate(g_major)], 6.0)
    pm, score = _read_back(t.to_midi(tempo=100, program=73), tmp_path, "primer.mid")
    assert [(x.numerator, x.denominator) for x in pm.time_signature_changes] == [(4, 4)]
    assert pm.key_signature_changes[0].key_number == pretty_midi.key_name_to_key_number("G major")
    assert pm.get_tempo_changes()[1][0] == pytest.approx(100, abs=0.01)
    assert pm.instruments[0].name == "primer (transcribed)"
    meter, tonic, tempo, parts = _music21_meta(score)
    assert (meter, tonic, parts) == ("4/4", "G", ["primer (transcribed)"]) and tempo == pytest.approx(100, abs=0.01)
