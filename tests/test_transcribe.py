"""Hum or play a primer: basic-pitch's ONNX network and our note decoding, on melodies whose notes are known."""
import numpy as np
import pretty_midi
import pytest

from core.audio import AudioError
from core.generation import api as gen
from core.generation import transcribe as T
from core.render import render_midi
from tests.conftest import EXAMPLES, last

PITCHES = [67, 69, 71, 72, 74, 72, 71, 69, 67, 64, 65, 67]


def _melody(program=0):
    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    inst = pretty_midi.Instrument(program=program)
    t = 0.5
    for i, p in enumerate(PITCHES):
        d = 0.45 if i % 3 else 0.9
        inst.notes.append(pretty_midi.Note(90, p, t, t + 0.9 * d))
        t += d
    pm.instruments.append(inst)
    return pm, render_midi(pm, sr=T.SR, soundfont="FluidR3_GM").audio


def test_a_played_melody_is_transcribed_note_for_note():
    import mir_eval

    pm, audio = _melody(program=0)  # piano: sharp attacks
    t = T.transcribe((T.SR, audio))
    assert [p for _, _, p, _ in t.melody()] == PITCHES
    ref = pm.instruments[0].notes
    f = mir_eval.transcription.precision_recall_f1_overlap(
        np.array([[n.start, n.end] for n in ref]), pretty_midi.note_number_to_hz(np.array([n.pitch for n in ref])),
        np.array([[s, e] for s, e, _, _ in t.melody()]),
        pretty_midi.note_number_to_hz(np.array([p for _, _, p, _ in t.melody()])),
        offset_ratio=None)[2]
    assert f == 1.0  # every onset within 50 ms, every pitch right


def test_the_melody_is_one_line_a_new_note_cuts_the_sounding_one_and_a_chord_keeps_its_loudest():
    t = T.Transcription([(0.0, 1.0, 60, 0.8), (0.5, 1.5, 62, 0.7), (0.51, 1.2, 74, 0.2), (2.0, 3.0, 64, 0.5),
                         (2.01, 3.0, 67, 0.9)], 3.0)
    assert ([(round(s, 2), round(e, 2), p) for s, e, p, _ in t.melody()]
            == [(0.0, 0.5, 60), (0.5, 1.5, 62), (2.01, 3.0, 67)])


def test_the_transcribed_primer_opens_the_piece_heard_and_written_and_is_continued(tmp_path):
    t = T.transcribe(str(EXAMPLES / "generation" / "primer_flute_melody.ogg"))
    heard = [p for _, _, p, _ in t.melody()]
    path = tmp_path / "primer.mid"
    t.to_midi(tempo=100).write(str(path))
    assert [p for p, _ in gen.primer_events(path) if p != -1] == heard  # every note read back, none lost
    piece = gen.compose(model="lstm", seconds=14, seed=1, primer=str(path), tempo=100)
    melody = piece.midi.instruments[0].notes
    assert [n.pitch for n in melody[:len(heard)]] == heard and len(melody) > len(heard) + 3
    lead_s = melody[len(heard) - 1].start + 0.3  # the rendered audio opens with the primer too
    again = [p for _, _, p, _ in T.transcribe((piece.sr, piece.audio[: int(lead_s * piece.sr)])).melody()]
    assert again[:len(heard)] == heard
    # the hummed tune's key lies outside the keys the models learned: moved for the model, and the user told
    assert any("The primer is in " in n and "(r = " in n for n in piece.notices)


def test_silence_a_click_and_a_noise_get_one_clear_message():
    with pytest.raises(AudioError, match="silent"):
        T.transcribe((T.SR, np.zeros(T.SR, np.float32)))
    with pytest.raises(AudioError, match="at least half a second"):
        T.transcribe((T.SR, 0.5 * np.ones(T.SR // 4, np.float32)))
    noise = (np.random.default_rng(0).standard_normal(2 * T.SR) * 1e-3).astype(np.float32)
    with pytest.raises(AudioError, match="No notes were heard"):
        T.transcribe((T.SR, noise))


def test_the_tab_turns_a_recording_into_the_primer_file_and_refuses_none():
    import gradio as gr

    from tabs import generation as tab

    path, roll, note = last(tab.hum(str(EXAMPLES / "generation" / "primer_flute_melody.ogg"), 100, "Flute"))
    assert path.endswith(".mid") and hasattr(roll["value"], "savefig") and roll["visible"] and "notes" in note
    assert pretty_midi.PrettyMIDI(path).instruments[0].program == 73
    with pytest.raises(gr.Error, match="Record or upload"):
        last(tab.hum(None, 100, "Flute"))
