"""core.render: FluidSynth gives real, non-silent audio of the right length; the fallback warns."""
import numpy as np
import pretty_midi
import pytest

from core import render
from tests.conftest import EXAMPLES


def scale(seconds_per_note: float = 0.25, program: int = 0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program)
    for i, pitch in enumerate([60, 62, 64, 65, 67, 69, 71, 72]):
        inst.notes.append(pretty_midi.Note(100, pitch, i * seconds_per_note, (i + 1) * seconds_per_note))
    pm.instruments.append(inst)
    return pm


def test_soundfonts_always_has_the_bundled_one():
    fonts = render.soundfonts()
    assert "TimGM6mb" in fonts


@pytest.mark.skipif(not render.fluidsynth_available(), reason="libfluidsynth is not installed")
@pytest.mark.parametrize("font", ["TimGM6mb", None])
def test_fluidsynth_render(font):
    out = render.render_midi(scale(), sr=22_050, soundfont=font)
    assert out.synth.startswith("fluidsynth:") and out.warning is None
    assert out.audio.dtype == np.float32 and out.audio.ndim == 1
    # 2 s of notes plus FluidSynth's release tail (pretty_midi adds 1 s).
    assert 2.0 <= len(out.audio) / out.sr <= 3.1
    body = out.audio[: int(2.0 * out.sr)]
    assert np.sqrt(np.mean(body**2)) > 0.01  # not silent
    assert np.max(np.abs(out.audio)) == pytest.approx(0.9, abs=1e-3)


def test_bundled_midi_renders():
    pm = pretty_midi.PrettyMIDI(str(EXAMPLES / "house_groove_124bpm.mid"))
    out = render.render_midi(pm, sr=16_000)
    assert len(out.audio) / out.sr >= pm.get_end_time()


def test_fallback_to_sine_is_visible(monkeypatch):
    monkeypatch.setattr(render, "fluidsynth_available", lambda: False)
    out = render.render_midi(scale(), sr=16_000)
    assert out.synth == "sine"
    assert "FluidSynth" in out.warning and "apt install" in out.warning
    assert np.abs(out.audio).max() > 0.5


def test_unknown_soundfont_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown SoundFont"):
        render.render_midi(scale(), soundfont="NoSuchFont")


def test_rendering_one_instrument_at_a_time_is_pretty_midis_render_and_stops_when_cancelled():
    import pretty_midi

    from core import render
    from core.training import Cancelled, cancel_scope

    sf_path = render.default_soundfont()
    if not (render.fluidsynth_available() and sf_path):
        pytest.skip("libfluidsynth or a SoundFont is missing")
    pm = pretty_midi.PrettyMIDI()
    for program, pitch in ((0, 60), (33, 36)):
        inst = pretty_midi.Instrument(program=program)
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=0.0, end=0.5))
        pm.instruments.append(inst)
    assert np.array_equal(render._fluidsynth(pm, 22_050, sf_path), pm.fluidsynth(fs=22_050, synthesizer=sf_path))
    with cancel_scope(lambda: True), pytest.raises(Cancelled):
        render._fluidsynth(pm, 22_050, sf_path)
