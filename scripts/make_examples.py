"""Make the bundled example audio and MIDI in assets/examples (deterministic).

    python scripts/make_examples.py

Sources: a Bach chorale and an Essen folk song from music21's bundled corpus,
and a drum-and-bass groove written here; all rendered with FluidSynth.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from core.render import render_midi, soundfonts

OUT = Path(__file__).resolve().parent.parent / "assets" / "examples"
SR = 22_050


def music21_to_pretty_midi(score, programs: list[int], max_seconds: float) -> pretty_midi.PrettyMIDI:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "score.mid"
        score.write("midi", fp=str(path))
        pm = pretty_midi.PrettyMIDI(str(path))
    for i, inst in enumerate(pm.instruments):
        inst.program = programs[i % len(programs)]
        inst.notes = [n for n in inst.notes if n.start < max_seconds]
        for n in inst.notes:
            n.end = min(n.end, max_seconds)
    return pm


def chorale() -> pretty_midi.PrettyMIDI:
    from music21 import corpus

    # Strings on soprano/alto/tenor, cello on the bass.
    return music21_to_pretty_midi(corpus.parse("bach/bwv66.6"), programs=[48, 48, 48, 42], max_seconds=22.0)


def folk_tune() -> pretty_midi.PrettyMIDI:
    from music21 import corpus, tempo

    score = corpus.parse("essenFolksong/altdeu10", number=1)
    score.insert(0, tempo.MetronomeMark(number=132))
    return music21_to_pretty_midi(score, programs=[73], max_seconds=18.0)


def groove(bpm: float = 124.0, bars: int = 8) -> pretty_midi.PrettyMIDI:
    """House-style groove: four-on-the-floor kick, clap on 2 and 4, off-beat hats, a bass riff."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    beat = 60.0 / bpm
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(program=38, name="synth bass")
    riff = [36, 36, 43, 36, 39, 36, 41, 43]  # eighth notes, C minor-ish
    for bar in range(bars):
        t0 = bar * 4 * beat
        for b in range(4):
            drums.notes.append(pretty_midi.Note(110, 36, t0 + b * beat, t0 + b * beat + 0.1))  # kick
            drums.notes.append(pretty_midi.Note(80, 42, t0 + (b + 0.5) * beat, t0 + (b + 0.5) * beat + 0.05))  # hat
            if b in (1, 3):
                drums.notes.append(pretty_midi.Note(100, 39, t0 + b * beat, t0 + b * beat + 0.1))  # clap
        if bar % 4 == 3:  # a crash every fourth bar: a one-off sample to search for
            drums.notes.append(pretty_midi.Note(90, 49, t0, t0 + 1.0))
        for i, pitch in enumerate(riff):
            start = t0 + i * beat / 2
            bass.notes.append(pretty_midi.Note(95, pitch, start, start + beat / 2 * 0.8))
    pm.instruments.extend([drums, bass])
    return pm


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [
        ("bach_chorale_bwv66_6", chorale(), "flac"),
        ("folk_tune_hildebrandslied", folk_tune(), "mp3"),
        ("house_groove_124bpm", groove(), "ogg"),
    ]
    for name, pm, ext in jobs:
        pm.write(str(OUT / f"{name}.mid"))
        rendered = render_midi(pm, sr=SR, soundfont="FluidR3_GM" if "FluidR3_GM" in soundfonts() else None)
        audio = rendered.audio * 0.8
        path = OUT / f"{name}.{ext}"
        sf.write(str(path), audio.astype(np.float32), SR, format=ext.upper())
        print(f"{path.relative_to(OUT.parent.parent)}: {len(audio) / SR:.1f} s via {rendered.synth}")
    # the search tab's example: a drum & bass track whose loops and samples are known (truth in its .json)
    from core.search.dataset import write_example

    search = OUT / "search" / "drum_and_bass_loops_and_samples.ogg"
    write_example(search)
    print(f"{search.relative_to(OUT.parent.parent)}: with its truth in {search.with_suffix('.json').name}")


if __name__ == "__main__":
    main()
