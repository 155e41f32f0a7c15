"""Electronic tracks whose repeated loops and one-shot samples are known by construction.

No annotated loop/sample dataset can be downloaded, so the evaluation set is built
here, in the paper's four genres: a MIDI arrangement in sections (drums, bass, pad,
a lead that changes every section) with

* **samples**: one-shots (FX hits, vocal-like chops, stabs, drum fills) placed at
  known times over a changing background, each with its own level per occurrence;
* **loops**: 1–8 bar patterns with a melodic and a percussive part, repeated at
  known places;
* **decoys**: the same instruments playing something else (another pitch, other
  notes), so the nearest neighbour of a query is not always a true occurrence.

Every part is rendered with FluidSynth (``core.render``) in one of the installed
SoundFonts and mixed with per-section filtering, reverb and compression
(pedalboard). ``Track.targets`` holds the truth: for each sound, its kind, its
duration and the start of every occurrence (the first one is the query).

    python -m core.search.dataset --out .cache/search/eval --per-genre 10 --seed 0
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

GENRES = ("house", "drum_and_bass", "dubstep", "downtempo")
TEMPO = {"house": (120, 128), "drum_and_bass": (168, 176), "dubstep": (138, 142), "downtempo": (80, 100)}
SR = 22_050
SECTION_BARS = 8
DROP = 0.12  # share of a loop's notes left out of each repetition

KICK, SNARE, RIM, CLAP, HH_CLOSED, HH_OPEN, CRASH, RIDE, TOM_LO, TOM_MID, TOM_HI = (
    36, 38, 37, 39, 42, 46, 49, 51, 45, 47, 50)
#: Percussion kept out of the background kit, so a loop's percussive part is its own.
LOOP_PERCUSSION = (54, 56, 60, 61, 62, 63, 64, 67, 68, 69, 70, 75, 76, 77)
#: GM programs (0-based) by role.
PADS = (88, 89, 90, 91, 94, 95, 48, 50)
BASSES = {"house": (38, 39, 33), "drum_and_bass": (38, 39, 87), "dubstep": (38, 39, 87, 81), "downtempo": (33, 32, 38)}
LEADS = (80, 81, 82, 0, 4, 5, 73)
LOOP_RIFFS = (11, 13, 45, 84, 86, 98, 108, 112, 8, 10, 14)
SAMPLE_KINDS = {
    "fx": (96, 97, 98, 99, 102, 119, 120, 122, 123, 124, 125, 127),
    "vocal": (52, 53, 54, 85),
    "stab": (55, 61, 62, 63, 17),
    "fill": (None,),  # a drum fill on its own kit
}
MINOR = (0, 2, 3, 5, 7, 8, 10)
FILL_SWAP = {TOM_HI: TOM_LO, TOM_LO: TOM_HI, TOM_MID: SNARE, SNARE: TOM_MID}  # a decoy fill: same drums, other order
PROGRESSIONS = ([0, 5, 3, 4], [0, 0, 5, 4], [0, 3, 5, 6], [0, 6, 5, 6], [0, 4, 0, 5])


@dataclass
class Target:
    """One repeated sound: its kind, duration and every occurrence's start (seconds)."""

    name: str
    kind: str  # "sample" or "loop"
    duration: float
    starts: list[float]


@dataclass
class Track:
    genre: str
    seed: int
    soundfont: str
    tempo: float
    sr: int
    targets: list[Target]
    y: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return len(self.y) / self.sr

    def truth(self) -> dict:
        d = asdict(self)
        d.pop("y")
        d["duration"] = round(self.duration, 3)
        return d


def _note(inst, pitch, start, dur, vel, rng):
    import pretty_midi

    t = max(0.0, start + rng.gauss(0, 0.004))  # slight humanisation: occurrences are never sample-identical
    inst.notes.append(pretty_midi.Note(int(np.clip(vel + rng.randint(-6, 6), 1, 127)), int(pitch), t,
                                       t + max(dur, 0.04)))


def _scale(tonic: int, degree: int, octave: int = 0) -> int:
    return tonic + MINOR[degree % 7] + 12 * (degree // 7 + octave)


def _drums(genre, bar_t, beat, part, rng, inst):
    """The background kit, one bar: the genre's groove, thinner in intros and breaks."""
    hits = []
    if genre == "house":
        hits += [(KICK, b, 110) for b in range(4)] + [(HH_OPEN, b + 0.5, 70) for b in range(4)]
        hits += [(CLAP, 1, 90), (CLAP, 3, 90)]
    elif genre == "drum_and_bass":  # two-step break at double time
        hits += [(KICK, 0, 110), (KICK, 2.5, 100), (SNARE, 1, 110), (SNARE, 3, 110), (SNARE, 3.75, 45)]
        hits += [(HH_CLOSED, b / 2, 60) for b in range(8)]
    elif genre == "dubstep":  # half time: one snare on 3
        hits += [(KICK, 0, 115), (KICK, 2.75 if rng.random() < 0.5 else 1.5, 90), (SNARE, 2, 115)]
        hits += [(HH_CLOSED, b / 2, 55) for b in range(8)]
    else:  # downtempo: laid-back, swung hats
        hits += [(KICK, 0, 100), (KICK, 2.5, 85), (SNARE, 1, 85), (SNARE, 3, 85)]
        hits += [(HH_CLOSED, b / 2 + (0.08 if b % 2 else 0), 50) for b in range(8)]
    if part == "intro":
        hits = [h for h in hits if h[0] in (KICK, HH_CLOSED, HH_OPEN)]
    for note, pos, vel in hits:
        _note(inst, note, bar_t + pos * beat, 0.1, vel, rng)


def _riff(rng, tonic, bars, dense):
    """A loop's melodic part: (pitch, position in beats, length in beats) over ``bars`` bars."""
    step = 0.25 if dense else 0.5
    cell = [(rng.randint(0, 9), k * step) for k in range(int(4 / step)) if rng.random() < 0.6]
    cell = cell or [(0, 0.0)]
    notes = []
    for bar in range(bars):  # each bar a variation of the first: riffs repeat inside the loop too
        for degree, pos in cell:
            if bar and rng.random() < 0.3:
                degree += rng.choice([-2, -1, 1, 2])
            notes.append((_scale(tonic, degree, 1), bar * 4 + pos, step * 0.9))
    return notes


def _groove(rng, bars):
    """A loop's percussive part: two hand-percussion voices in a 16th grid."""
    voices = rng.sample(LOOP_PERCUSSION, 2)
    hits = []
    for v in voices:
        pattern = [k for k in range(16) if rng.random() < 0.35] or [0]
        hits += [(v, bar * 4 + k / 4) for bar in range(bars) for k in pattern]
    return hits


def arrange(genre: str, seed: int, seconds: float = 80.0):
    """One track as MIDI stems plus its truth: ``(stems, targets, tempo, sections)``.

    ``stems`` maps a name ("background", "loop1", "sample2", ...) to a PrettyMIDI;
    each stem is rendered and mixed separately, so each gets its own level.
    """
    import pretty_midi

    if genre not in GENRES:
        raise ValueError(f"Unknown genre {genre!r}; expected one of {', '.join(GENRES)}.")
    rng = random.Random(f"search:{genre}:{seed}")
    tempo = rng.uniform(*TEMPO[genre])
    beat = 60.0 / tempo
    bar_s = 4 * beat
    n_sections = max(4, int(round(seconds / (SECTION_BARS * bar_s))))
    parts = ["intro"] + [rng.choice(["main", "main", "break", "drop"]) for _ in range(n_sections - 2)] + ["outro"]
    tonic = rng.randint(36, 47)

    def midi(*programs, drum=False):
        pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        for p in programs:
            pm.instruments.append(pretty_midi.Instrument(program=p or 0, is_drum=drum))
        return pm

    # Background: drums, bass, pad, and a lead whose melody is new in every section.
    # The arpeggio uses the loops' timbres on purpose: the same sound playing other notes.
    bg = midi(0, rng.choice(BASSES[genre]), rng.choice(PADS), rng.choice(LEADS), rng.choice(LOOP_RIFFS))
    bg.instruments[0].is_drum = True
    kit, bass, pad, lead, arp = bg.instruments
    for s, part in enumerate(parts):
        prog = rng.choice(PROGRESSIONS)
        melody = [rng.randint(0, 9) for _ in range(8)]
        arp_cell = [rng.choice([0, 2, 4, 7]) for _ in range(rng.choice([3, 4, 6]))]
        arp_step = rng.choice([0.25, 0.5])
        for b in range(SECTION_BARS):
            t = (s * SECTION_BARS + b) * bar_s
            degree = prog[b % len(prog)]
            if part != "break":
                _drums(genre, t, beat, part, rng, kit)
            if part not in ("intro",):
                for pos in ((0, 1.5, 2.5) if genre != "house" else (0.5, 1.5, 2.5, 3.5)):
                    _note(bass, _scale(tonic, degree) - 12 + 12 * (genre == "house"), t + pos * beat, 0.45 * beat, 95,
                          rng)
            if part in ("break", "main", "outro") or rng.random() < 0.5:
                for k in (0, 2, 4):
                    _note(pad, _scale(tonic, degree + k, 1), t, bar_s * 0.98, 60, rng)
            if part in ("main", "drop") and s % 2 == 1:
                for i in range(int(4 / arp_step)):
                    _note(arp, _scale(tonic, degree + arp_cell[i % len(arp_cell)], 1), t + i * arp_step * beat,
                          arp_step * beat * 0.8, 65, rng)
            if b == SECTION_BARS - 1 and part != "break" and rng.random() < 0.5:  # a fill into the next section
                for i in range(4):
                    _note(kit, rng.choice([TOM_HI, TOM_MID, TOM_LO, SNARE]), t + (3 + i / 4) * beat, 0.1, 90, rng)
            if part in ("main", "drop") and b % 2 == 0:
                for i, m in enumerate(melody[:4] if b % 4 == 0 else melody[4:]):
                    _note(lead, _scale(tonic, m, 2), t + i * beat, 0.8 * beat, 80, rng)
    stems = {"background": bg}
    targets: list[Target] = []
    busy: dict[str, list[tuple[float, float]]] = {}  # per target kind: spans already used

    # Loops: a riff and a groove, repeated back to back in some sections, with a decoy elsewhere.
    n_bars_total = len(parts) * SECTION_BARS
    for k in range(rng.choice([1, 2])):
        length = rng.choice([1, 2, 2, 4] + ([8] if bar_s * 8 < 12 else []))
        reps = max(1, 4 // length) if length < 8 else 1
        pm = midi(rng.choice(LOOP_RIFFS), 0)
        pm.instruments[1].is_drum = True
        riff, groove = _riff(rng, tonic, length, dense=genre != "downtempo"), _groove(rng, length)
        decoy = [(p + rng.choice([-5, -3, 2, 4]), pos, d) for p, pos, d in _riff(rng, tonic, length, True)]
        candidates = [s * SECTION_BARS + half for s in range(len(parts)) for half in (0, 4) if length <= 4 or half == 0]
        rng.shuffle(candidates)
        starts: list[float] = []
        n_blocks, n_decoys, placed = rng.randint(2, 3), rng.choice([1, 2]), 0
        for first_bar in candidates:
            if placed == n_blocks + n_decoys:
                break
            span = (first_bar * bar_s, (first_bar + reps * length) * bar_s)
            if (first_bar + reps * length > n_bars_total
                    or any(a < span[1] and span[0] < b for a, b in busy.get("loop", []))):
                continue
            busy.setdefault("loop", []).append(span)
            is_decoy = placed >= n_blocks  # the last blocks play other notes on the same sounds
            placed += 1
            for r in range(reps):
                t0 = (first_bar + r * length) * bar_s
                vel = rng.randint(70, 105)
                for p, pos, d in decoy if is_decoy else riff:
                    if rng.random() > DROP:  # producers vary repeats: a few notes differ each time
                        _note(pm.instruments[0], p, t0 + pos * beat, d * beat, vel, rng)
                for p, pos in groove:
                    if rng.random() > DROP:
                        _note(pm.instruments[1], p, t0 + pos * beat, 0.1, vel - 10, rng)
                if not is_decoy:
                    starts.append(round(t0, 3))
        if len(starts) >= 2:
            stems[f"loop{k + 1}"] = pm
            targets.append(Target(f"loop{k + 1}", "loop", round(length * bar_s, 3), sorted(starts)))

    # Samples: one-shots at bar or beat positions, 3–6 times, plus a decoy at another pitch.
    for k in range(rng.choice([2, 3])):
        kind = rng.choice(list(SAMPLE_KINDS))
        program = rng.choice(SAMPLE_KINDS[kind])
        pm = midi(program or 0, drum=program is None)
        if kind == "fill":
            shape = [(rng.choice([TOM_HI, TOM_MID, TOM_LO, SNARE]), i * 0.25) for i in range(rng.choice([4, 6, 8]))]
            shape = [(p, pos, 0.1) for p, pos in shape]
        elif kind == "vocal":
            shape = [(_scale(tonic, rng.randint(0, 7), 2), i * 0.5, 0.45) for i in range(rng.randint(2, 4))]
        elif kind == "stab":
            root = rng.randint(0, 6)
            shape = [(_scale(tonic, root + c, 2), 0.0, 0.35) for c in (0, 2, 4)]
        else:
            shape = [(_scale(tonic, rng.randint(0, 7), 2), 0.0, rng.uniform(0.5, 2.0))]
        length = max(p + d for _, p, d in shape) * beat + 0.15  # release included
        decoy_shift = rng.choice([-7, -5, 5, 7]) if kind != "fill" else 0
        n, n_decoys, placed = rng.randint(3, 6), rng.choice([1, 2, 3]), 0
        starts = []
        slots = [(bar, pos) for bar in range(n_bars_total) for pos in (0, 2, 3)]
        rng.shuffle(slots)
        for bar, pos in slots:
            if placed == n + n_decoys:
                break
            t0 = (bar + pos / 4) * bar_s
            span = (t0 - 0.2, t0 + length + 0.2)
            if (t0 + length > n_bars_total * bar_s
                    or any(a < span[1] and span[0] < b for a, b in busy.get("sample", []))):
                continue
            busy.setdefault("sample", []).append(span)
            is_decoy = placed >= n
            placed += 1
            vel = rng.randint(80, 120)
            for p, ps, d in shape:
                pitch = p
                if is_decoy:
                    pitch = FILL_SWAP[p] if kind == "fill" else p + decoy_shift
                choke = 0.5 if rng.random() < 0.2 else 1.0  # sometimes cut short by the next event
                _note(pm.instruments[0], pitch, t0 + ps * beat, d * beat * choke, vel, rng)
            if not is_decoy:
                starts.append(round(t0, 3))
        stems[f"sample{k + 1}"] = pm
        targets.append(Target(f"sample{k + 1}_{kind}", "sample", round(length, 3), sorted(starts)))
    return stems, targets, tempo, [(p, i * SECTION_BARS * bar_s, (i + 1) * SECTION_BARS * bar_s)
                                   for i, p in enumerate(parts)]


def mix(stems: dict[str, np.ndarray], sections, sr: int, seed: int) -> np.ndarray:
    """Level each stem, filter the background per section (breaks darker), then reverb and bus compression."""
    import pedalboard as pb

    rng = random.Random(f"mix:{seed}")
    n = max(len(a) for a in stems.values())
    out = np.zeros(n, dtype=np.float32)
    for name, audio in stems.items():
        audio = np.pad(audio, (0, n - len(audio)))
        if name == "background":
            for part, a, b in sections:  # per-section automation of the bed the targets sit in
                i, j = int(a * sr), min(n, int(b * sr))
                if part in ("intro", "break", "outro") and j > i:
                    cutoff = rng.uniform(600, 2500)
                    audio[i:j] = pb.Pedalboard([pb.LowpassFilter(cutoff_frequency_hz=cutoff)])(audio[None, i:j], sr)[0]
            gain = 0.8
        elif name.startswith("loop"):
            gain = rng.uniform(0.2, 0.45)
        else:
            gain = rng.uniform(0.15, 0.45)
        out += gain * audio
    chain = pb.Pedalboard([
        pb.Reverb(room_size=rng.uniform(0.1, 0.6), wet_level=rng.uniform(0.05, 0.25), dry_level=0.85),
        pb.Compressor(threshold_db=rng.uniform(-20, -10), ratio=rng.uniform(2, 5)),
        pb.HighpassFilter(cutoff_frequency_hz=30),
    ])
    out = chain(out[None, :], sr)[0]
    return (out / (float(np.max(np.abs(out))) or 1.0) * 0.9).astype(np.float32)


def make_track(genre: str, seed: int, soundfont: str, seconds: float = 80.0, sr: int = SR) -> Track:
    """Arrange, render every stem with ``soundfont`` and mix: a track with its truth."""
    from core.render import render_midi

    stems, targets, tempo, sections = arrange(genre, seed, seconds)
    audio = {name: render_midi(pm, sr=sr, soundfont=soundfont, normalize_peak=None).audio for name, pm in stems.items()}
    y = mix(audio, sections, sr, seed)
    y = y[: int((sections[-1][2] + 1.0) * sr)]  # the outro's last bar plus a second of tail
    return Track(genre, seed, soundfont, round(tempo, 3), sr, targets, y)


def build(out_dir, per_genre: int, seed: int = 0, seconds: float = 80.0, soundfonts=None, genres=GENRES) -> list[Path]:
    """Write ``per_genre`` tracks per genre as FLAC plus a JSON of its truth; skips files already there."""
    import soundfile as sf

    from core.render import soundfonts as installed

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fonts = list(soundfonts or installed())
    paths = []
    for i in range(per_genre):
        for g, genre in enumerate(genres):
            s = seed + i
            path = out_dir / f"{genre}_{s:03d}.flac"
            paths.append(path)
            if path.exists() and path.with_suffix(".json").exists():
                continue
            track = make_track(genre, s, fonts[(i + g) % len(fonts)], seconds)
            sf.write(str(path), track.y, track.sr)
            path.with_suffix(".json").write_text(json.dumps(track.truth(), indent=1))
            print(f"{path.name}: {track.duration:.0f} s, {track.soundfont}, "
                  + ", ".join(f"{t.name}×{len(t.starts)}" for t in track.targets), flush=True)
    return paths


def load(path) -> Track:
    """A track written by :func:`build` (audio and truth)."""
    import soundfile as sf

    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    y, sr = sf.read(str(path), dtype="float32")
    targets = [Target(**t) for t in meta["targets"]]
    return Track(meta["genre"], meta["seed"], meta["soundfont"], meta["tempo"], sr, targets, y)


def write_example(path, genre: str = "drum_and_bass", seed: int = 5, soundfont: str = "FluidR3_GM") -> Track:
    """A short bundled example (OGG) with its truth next to it (JSON): the UI's examples and the browser test."""
    import soundfile as sf

    track = make_track(genre, seed, soundfont, seconds=40.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), track.y, track.sr, format="OGG", subtype="VORBIS", compression_level=0.7)
    path.with_suffix(".json").write_text(json.dumps(track.truth(), indent=1))
    return track


def main(argv=None):
    parser = argparse.ArgumentParser(description="Render electronic tracks with known loops and samples.")
    parser.add_argument("--out", default=".cache/search/eval")
    parser.add_argument("--per-genre", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="first seed; the training split uses other seeds")
    parser.add_argument("--seconds", type=float, default=80.0)
    parser.add_argument("--soundfonts", nargs="*", default=None, help="names from core.render.soundfonts()")
    parser.add_argument("--example", default=None, help="write the bundled example to this .ogg path instead")
    args = parser.parse_args(argv)
    if args.example:
        t = write_example(args.example)
        print(json.dumps(t.truth(), indent=1))
        return
    build(args.out, args.per_genre, args.seed, args.seconds, args.soundfonts)


if __name__ == "__main__":
    main()
