"""A Medley-solos-DB-like corpus rendered here: real folk melodies played by eight instruments.

Each passage is a tune from music21's Essen folk corpus (see ``core.data.corpus``),
moved into the instrument's real range, played with one of the class's General
MIDI programs through FluidSynth with one SoundFont, with random tempo, velocity,
articulation, EQ and reverb, then cut into 3 s clips at 16 kHz (Medley-solos-DB's
clip length). Piano passages sometimes get triads and guitar passages power
chords, as those instruments are played.

    python -m core.data.instruments --out .cache/instruments --passages 24
"""
from __future__ import annotations

import argparse
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from core.data.corpus import REST, load_folk_corpus

log = logging.getLogger(__name__)

CLASSES = (
    "clarinet", "distorted electric guitar", "female singer", "flute",
    "piano", "tenor saxophone", "trumpet", "violin",
)
#: General MIDI programs per class (0-based): the issue's list.
PROGRAMS = {
    "clarinet": (71,), "distorted electric guitar": (30, 29), "female singer": (52, 53, 54), "flute": (73,),
    "piano": (0, 1), "tenor saxophone": (66,), "trumpet": (56,), "violin": (40,),
}
#: Comfortable sounding ranges (MIDI pitch) where each instrument is usually played.
RANGES = {
    "clarinet": (50, 86), "distorted electric guitar": (40, 79), "female singer": (57, 81), "flute": (60, 96),
    "piano": (36, 96), "tenor saxophone": (44, 76), "trumpet": (55, 82), "violin": (55, 93),
}
SR = 16_000
CLIP_SECONDS = 3.0


@dataclass
class Passage:
    label: str
    program: int
    pm: pretty_midi.PrettyMIDI
    tune: str


def place_in_range(pitches: np.ndarray, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """Transpose a melody so its median lands at a random point of [low, high]; fold stray notes by octaves."""
    target = rng.uniform(low + 0.3 * (high - low), low + 0.7 * (high - low))
    shifted = pitches + int(round(target - np.median(pitches)))
    while (shifted < low).any() or (shifted > high).any():
        shifted = np.where(shifted < low, shifted + 12, shifted)
        shifted = np.where(shifted > high, shifted - 12, shifted)
    return shifted


def make_passage(label: str, events, rng: np.random.Generator, tune: str, seconds: float = 24.0) -> Passage:
    program = int(rng.choice(PROGRAMS[label]))
    tempo = rng.uniform(70, 160)
    beat = 60.0 / tempo
    legato = rng.uniform(0.55, 1.0)
    base_velocity = rng.uniform(60, 115)
    notes = [(p, d) for p, d in events]
    pitches = place_in_range(np.array([p for p, _ in notes if p != REST]), *RANGES[label], rng)
    inst = pretty_midi.Instrument(program=program)
    chords = (label == "piano" and rng.random() < 0.5) or (label == "distorted electric guitar" and rng.random() < 0.5)
    t, k = 0.0, 0
    while t < seconds:  # loop the tune until the passage is long enough
        for pitch, dur in notes:
            if t >= seconds:
                break
            if pitch != REST:
                p = int(pitches[k % len(pitches)])
                k += 1
                vel = int(np.clip(base_velocity + rng.normal(0, 8), 30, 127))
                end = t + dur * beat * legato
                stack = [p]
                if chords and label == "piano":
                    stack += [p - 4, p - 7] if rng.random() < 0.5 else [p - 3, p - 7]
                elif chords:
                    stack += [p + 7, p + 12]  # power chord
                for q in stack:
                    if 21 <= q <= 108:
                        inst.notes.append(pretty_midi.Note(vel, q, t, end))
            t += dur * beat
        k = 0
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.instruments.append(inst)
    return Passage(label, program, pm, tune)


def mix(audio: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Random tone shaping and room: a shelf EQ, a touch of reverb, a random level."""
    import pedalboard

    board = pedalboard.Pedalboard([
        pedalboard.LowShelfFilter(cutoff_frequency_hz=float(rng.uniform(100, 400)), gain_db=float(rng.uniform(-6, 6))),
        pedalboard.HighShelfFilter(cutoff_frequency_hz=float(rng.uniform(2000, 6000)),
                                   gain_db=float(rng.uniform(-6, 6))),
        pedalboard.Reverb(room_size=float(rng.uniform(0.05, 0.7)), wet_level=float(rng.uniform(0.0, 0.3)),
                          dry_level=1.0),
    ])
    out = board(audio.astype(np.float32), sr)
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / peak * rng.uniform(0.2, 0.95)).astype(np.float32)


def clips(audio: np.ndarray, sr: int = SR, seconds: float = CLIP_SECONDS, min_rms: float = 0.01):
    """Cut into non-overlapping clips, dropping near-silent ones (rests, the release tail)."""
    n = int(seconds * sr)
    for start in range(0, len(audio) - n + 1, n):
        clip = audio[start:start + n]
        if np.sqrt(np.mean(clip ** 2)) >= min_rms * max(np.max(np.abs(audio)), 1e-6):
            yield clip


def render_corpus(out: Path, fonts: dict[str, str], passages_per_class: int = 24, seed: int = 0,
                  seconds: float = 24.0) -> int:
    """Render ``passages_per_class`` passages per class and SoundFont into out/<font>/<class>/<tune>_<i>.wav."""
    import fluidsynth
    import soundfile as sf

    tunes = [t for t in load_folk_corpus() if len(t.events) >= 24]
    n_written = 0
    for font_name, font_path in fonts.items():
        synth = fluidsynth.Synth(samplerate=float(SR))
        sfid = synth.sfload(font_path)
        for ci, label in enumerate(CLASSES):
            # The same tunes for every font, different tunes per class: held-out pieces stay held out.
            rng = np.random.default_rng([seed, ci, int(hashlib.sha1(font_name.encode()).hexdigest()[:6], 16)])
            tune_rng = np.random.default_rng([seed, ci])
            folder = out / font_name / label
            folder.mkdir(parents=True, exist_ok=True)
            for j in tune_rng.choice(len(tunes), passages_per_class, replace=False):
                tune = tunes[int(j)]
                passage = make_passage(label, tune.events, rng, tune.source, seconds)
                audio = passage.pm.fluidsynth(fs=SR, synthesizer=synth, sfid=sfid)
                audio = mix(audio, SR, rng)
                tune_id = tune.source.replace("/", "_").replace("#", "-")
                for k, clip in enumerate(clips(audio)):
                    sf.write(folder / f"{tune_id}_{k}.wav", clip, SR, subtype="PCM_16")
                    n_written += 1
            log.info("%s / %s: %d clips so far", font_name, label, n_written)
        synth.delete()
    return n_written


def render_notes(out: Path, fonts: dict[str, str], notes_per_class: int = 40, seed: int = 0) -> int:
    """Single held notes (one-shots, as in a sample library) into out/<font>/<class>/note-<pitch>-<i>_0.wav.

    Phrases alone leave the corpus without what a sample library holds: one note, its attack and its
    whole release. Pitch, velocity and length are drawn per note within the class's range.
    """
    import fluidsynth
    import soundfile as sf

    n_written = 0
    for font_name, font_path in fonts.items():
        synth = fluidsynth.Synth(samplerate=float(SR))
        sfid = synth.sfload(font_path)
        for ci, label in enumerate(CLASSES):
            rng = np.random.default_rng([seed, ci, 7, int(hashlib.sha1(font_name.encode()).hexdigest()[:6], 16)])
            folder = out / font_name / label
            folder.mkdir(parents=True, exist_ok=True)
            lo, hi = RANGES[label]
            for i in range(notes_per_class):
                pitch = int(rng.integers(lo, hi + 1))
                held = float(rng.uniform(0.8, 4.0))
                inst = pretty_midi.Instrument(program=int(rng.choice(PROGRAMS[label])))
                inst.notes.append(pretty_midi.Note(int(rng.uniform(50, 120)), pitch, 0.05, 0.05 + held))
                if label == "distorted electric guitar" and rng.random() < 0.5:  # power chord, as guitar
                    # one-shots often are
                    inst.notes.append(pretty_midi.Note(int(rng.uniform(50, 120)), pitch + 7, 0.05, 0.05 + held))
                pm = pretty_midi.PrettyMIDI()
                pm.instruments.append(inst)
                audio = pm.fluidsynth(fs=SR, synthesizer=synth, sfid=sfid)[: int((held + 2.0) * SR)]
                if np.max(np.abs(audio)) < 1e-4:
                    continue
                sf.write(folder / f"note-{pitch}-{i}_0.wav", mix(audio, SR, rng), SR, subtype="PCM_16")
                n_written += 1
        synth.delete()
    return n_written


def main(argv=None) -> None:
    from core.render import soundfonts

    parser = argparse.ArgumentParser(description="Render the instrument corpus.")
    parser.add_argument("--out", default=".cache/instruments")
    parser.add_argument("--passages", type=int, default=24, help="passages per class and SoundFont")
    parser.add_argument("--seconds", type=float, default=24.0, help="length of each passage")
    parser.add_argument("--fonts", nargs="*", help="SoundFont names (default: all installed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notes", type=int, default=0,
                        help="also render this many single notes per class and SoundFont")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fonts = {k: v for k, v in soundfonts().items() if not args.fonts or k in args.fonts}
    n = render_corpus(Path(args.out), fonts, args.passages, args.seed, args.seconds) if args.passages else 0
    if args.notes:
        n += render_notes(Path(args.out), fonts, args.notes, args.seed)
    print(f"wrote {n} clips for {list(fonts)} into {args.out}")


if __name__ == "__main__":
    main()
