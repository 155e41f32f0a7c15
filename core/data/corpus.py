"""music21's bundled folk corpus → cached monophonic note events.

Each tune becomes a list of (pitch, quarter_length) events (pitch -1 is a rest),
transposed so its key signature's tonic is C (A for minor-mode signatures is not
distinguished: ABC key signatures give sharps/flats only). Parsing the ABC files
is slow (minutes), so the result is cached as JSON under ``.cache/``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "corpus"
REST = -1
#: Essen collections used by default: German ballads, children's songs and Erk's
#: collection — a few thousand real tunes, parsed in a couple of minutes.
DEFAULT_COLLECTIONS = (
    "essenFolksong/ballad10", "essenFolksong/ballad20", "essenFolksong/ballad30", "essenFolksong/ballad40",
    "essenFolksong/ballad50", "essenFolksong/ballad60", "essenFolksong/ballad70", "essenFolksong/ballad80",
    "essenFolksong/kinder0", "essenFolksong/erk10", "essenFolksong/erk20", "essenFolksong/erk30",
    "essenFolksong/erk5", "essenFolksong/altdeu10", "essenFolksong/altdeu20",
)
#: The folk collections of music21's corpus by style: the German Essen tunes above, O'Neill's Music of Ireland
#: (1850) and Ryan's Mammoth Collection (1883, Irish and American dance tunes), and the Nottingham dataset of
#: English and American tunes (the paper's set).
STYLE_COLLECTIONS = {"essen": DEFAULT_COLLECTIONS}


def _abc_files(folder: str) -> tuple[str, ...]:
    import music21

    return tuple(sorted(f"{folder}/{p.name}"
                        for p in (Path(music21.__file__).parent / "corpus" / folder).glob("*.abc")))


def style_collections(style: str) -> tuple[str, ...]:
    """The corpus names of one style ("essen", "irish", "american", "nottingham")."""
    folders = {"irish": "oneills1850", "american": "ryansMammoth", "nottingham": "nottingham-dataset"}
    if style in STYLE_COLLECTIONS:
        return STYLE_COLLECTIONS[style]
    if style not in folders:
        raise ValueError(f"Unknown style {style!r}; choose one of essen, {', '.join(folders)}.")
    return _abc_files(folders[style])


STYLES = ("essen", "irish", "american")  # music21's nottingham-dataset parses to 2 tunes: not a style

#: Durations kept (quarter lengths); everything else is snapped to the nearest.
DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass
class Tune:
    title: str
    source: str  # collection/number: held-out splits are by tune
    events: list[tuple[int, float]]  # (midi pitch or REST, quarter length)
    meter: str = ""  # the first time signature ("6/8"), "" when the file has none
    style: str = ""  # the collection's style (STYLES)
    bar: float = 0.0  # quarter lengths in a bar of the first time signature (0: unknown)
    pickup: float = 0.0  # quarter lengths before the first bar line (an anacrusis), 0 when it starts on one


def snap_duration(ql: float) -> float:
    return min(DURATIONS, key=lambda d: abs(d - ql))


def tonic_offset(sharps: int) -> int:
    """Semitones from C up to the major tonic of a key signature (G = 1 sharp → 7)."""
    return (7 * sharps) % 12


def _events_from_part(stream, transpose: int) -> list[tuple[int, float]]:
    events: list[tuple[int, float]] = []
    for el in stream.flatten().notesAndRests:
        ql = float(el.quarterLength)
        if ql <= 0:  # grace notes
            continue
        if el.isRest:
            pitch = REST
        elif el.isChord:
            pitch = max(p.midi for p in el.pitches) - transpose  # keep the melody (top) note
        else:
            pitch = el.pitch.midi - transpose
        dur = snap_duration(ql)
        if pitch == REST and events and events[-1][0] == REST:
            events[-1] = (REST, snap_duration(events[-1][1] + dur))
        else:
            events.append((pitch, dur))
    while events and events[0][0] == REST:
        events.pop(0)
    while events and events[-1][0] == REST:
        events.pop()
    return events


def parse_collection(name: str, min_events: int = 16) -> list[Tune]:
    """Parse one ABC collection of music21's corpus into tunes (skipping unparseable ones)."""
    from music21 import corpus, key, meter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opus = corpus.parse(name)
    scores = opus.scores if hasattr(opus, "scores") else [opus]
    tunes = []
    for i, score in enumerate(scores):
        try:
            sigs = list(score.recurse().getElementsByClass(key.KeySignature))
            transpose = tonic_offset(sigs[0].sharps) if sigs else 0
            if transpose > 6:
                transpose -= 12  # move by at most a tritone: keeps tunes in a singable range
            events = _events_from_part(score, transpose)
        except Exception as err:  # malformed tunes exist in every folk collection
            log.debug("skipping %s #%d: %s", name, i, err)
            continue
        if len(events) >= min_events:
            title = (score.metadata.title if score.metadata and score.metadata.title else f"{name} #{i}")
            meters = list(score.recurse().getElementsByClass(meter.TimeSignature))
            bar = float(meters[0].barDuration.quarterLength) if meters else 0.0
            measures = list(score.recurse().getElementsByClass("Measure"))
            first = float(measures[0].duration.quarterLength) if measures else bar
            tunes.append(Tune(title=title, source=f"{name}#{i}", events=events,
                              meter=meters[0].ratioString if meters else "", bar=bar,
                              pickup=first if 0 < first < bar - 1e-6 else 0.0))
    return tunes


def load_folk_corpus(collections=DEFAULT_COLLECTIONS, cache_dir: Path = CACHE_DIR, progress=None) -> list[Tune]:
    """All tunes of ``collections``, parsed once and cached as JSON."""
    key_ = hashlib.sha1(json.dumps([list(collections), DURATIONS, "meter", "bars"]).encode()).hexdigest()[:10]
    path = Path(cache_dir) / f"folk_{key_}.json"
    if path.exists():
        return [Tune(t["title"], t["source"], [tuple(e) for e in t["events"]], t.get("meter", ""), t.get("style", ""),
                     t.get("bar", 0.0), t.get("pickup", 0.0)) for t in json.loads(path.read_text())]
    tunes: list[Tune] = []
    for i, name in enumerate(collections):
        tunes += parse_collection(name)
        if progress:
            progress((i + 1) / len(collections), f"parsed {name} ({i + 1}/{len(collections)})")
        log.info("parsed %s: %d tunes so far", name, len(tunes))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"title": t.title, "source": t.source, "events": t.events, "meter": t.meter,
                                 "style": t.style, "bar": t.bar, "pickup": t.pickup} for t in tunes]))
    return tunes


def load_styles(styles=STYLES, cache_dir: Path = CACHE_DIR, progress=None) -> list[Tune]:
    """The tunes of several styles (each parsed once and cached), each tune marked with its style."""
    tunes = []
    for i, style in enumerate(styles):
        part = load_folk_corpus(style_collections(style), cache_dir)
        for t in part:
            t.style = style
        tunes += part
        if progress:
            progress((i + 1) / len(styles), f"{style}: {len(part)} tunes")
    return tunes


def split_by_tune(tunes: list[Tune], holdout: float = 0.1, seed: int = 0) -> tuple[list[Tune], list[Tune]]:
    """Deterministic train/held-out split by tune (a tune is never in both)."""
    ranked = sorted(tunes, key=lambda t: hashlib.sha1(f"{seed}:{t.source}".encode()).hexdigest())
    n_test = max(1, int(len(ranked) * holdout))
    return ranked[n_test:], ranked[:n_test]


def load_midi_folder(folder, min_events: int = 16) -> list[Tune]:
    """Melodies from a folder of MIDI files (the top note of the busiest non-drum track)."""
    import pretty_midi

    tunes = []
    for path in sorted(Path(folder).rglob("*.mid*")):
        try:
            pm = pretty_midi.PrettyMIDI(str(path))
        except Exception as err:
            log.warning("skipping %s: %s", path, err)
            continue
        events = melody_events(pm)
        if len(events) >= min_events:
            tunes.append(Tune(title=path.stem, source=str(path), events=events))
    return tunes


def melody_events(pm, max_events: int | None = None) -> list[tuple[int, float]]:
    """A PrettyMIDI's melody as (pitch, quarter_length) events: top line of the busiest melodic track."""
    tracks = [inst for inst in pm.instruments if not inst.is_drum and inst.notes]
    if not tracks:
        return []
    notes = sorted(max(tracks, key=lambda inst: len(inst.notes)).notes, key=lambda n: (n.start, -n.pitch))
    beat = 60.0 / (pm.get_tempo_changes()[1][0] if len(pm.get_tempo_changes()[1]) else 120.0)
    events: list[tuple[int, float]] = []
    t = notes[0].start
    for note in notes:
        if note.start < t - 1e-6:  # chord tone or overlap: keep the top (first) note only
            continue
        if note.start - t > beat / 8:
            events.append((REST, snap_duration((note.start - t) / beat)))
        dur = snap_duration((note.end - note.start) / beat)
        events.append((note.pitch, dur))
        t = note.start + dur * beat
        if max_events and len(events) >= max_events:
            break
    return events
