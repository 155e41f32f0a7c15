"""Generate melodies with the bundled models and turn them into MIDI.

    from core.generation import generate
    pm = generate("lstm", seconds=30, temperature=1.0, seed=0)
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi
import torch

from core import registry, validate
from core.capability import Capability, register
from core.data.corpus import REST, snap_duration
from core.generation.baselines import MarkovChain, random_events
from core.generation.models import BAR, BOS, EOS, LSTMConfig, MelodyLSTM, cache_probabilities, event_token, token_event
from core.key import PITCH_CLASSES
from core.training import MODELS_DIR, check_cancel, load_state, read_card

MODEL_DIR = MODELS_DIR / "generation"
MODELS = ("lstm", "gan", "markov", "random")
#: Limits shown to the user when a value is clamped.
MIN_SECONDS, MAX_SECONDS = 2.0, 180.0
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MIN_TEMPO, MAX_TEMPO = 40.0, 240.0


@dataclass
class Bundle:
    """A loaded generator and what it needs to sample."""

    kind: str
    model: object = None
    vocab: list[str] | None = None
    card: dict | None = None


def _load(kind: str, directory: Path) -> Bundle:
    # Sampling stays on the CPU whatever --device says: one token at a time through a small network is
    # kernel-launch bound on a GPU (training, in train.py, takes the registry's device).
    config = json.loads((directory / "config.json").read_text())
    if kind in ("lstm", "gan"):  # the GAN's generator is an LSTM, trained adversarially after pretraining
        model = MelodyLSTM(LSTMConfig(**{k: v for k, v in config.items() if k not in ("kind", "pretrained")}))
        model.load_state_dict(load_state(directory))
        return Bundle(kind, model.eval(), config["vocab"], read_card(directory))
    if kind == "markov":
        counts = np.load(directory / "transitions.npz")["counts"].astype(np.float32)
        return Bundle("markov", MarkovChain(config["vocab"], counts), config["vocab"], read_card(directory))
    raise ValueError(f"Unknown model {kind!r}; choose one of {', '.join(MODELS)}.")


def load(name_or_path: str = "lstm") -> Bundle:
    """A bundled model by name (lstm, gan, markov, random), or the folder train.py saved one in; loaded once, shared."""
    name = str(name_or_path)
    if name == "random":
        return Bundle("random")
    directory = MODEL_DIR / name if name in MODELS else Path(name)
    if name not in MODELS and not directory.is_dir():
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(MODELS)}, or a folder train.py saved.")
    if not (directory / "config.json").exists():
        raise ValueError(f"No trained {name} model in {directory}; train one with python -m core.generation.train.")
    kind = json.loads((directory / "config.json").read_text()).get("kind", name)  # the config says what it rebuilds
    return registry.get(f"generation:{directory.resolve()}", lambda: _load(kind, directory))


def clamp(value: float, low: float, high: float, name: str = "The value") -> float:
    """A slider's value moved into its range (the API may send any number); None, NaN or text is an error."""
    return validate.number(value, name, low, high, clamp=True)


def program_number(program) -> int:
    """A General MIDI program 0–127, given as a number or as its name ("Flute", "Acoustic Grand Piano")."""
    if isinstance(program, str) and not program.strip().lstrip("-").isdigit():
        try:
            return pretty_midi.instrument_name_to_program(program)
        except ValueError:
            raise ValueError(f"Unknown instrument {program!r}: give a General MIDI program 0–127 or its name, "
                             "e.g. 'Flute'.") from None
    return validate.number(program, "The General MIDI program", 0, 127, integer=True)


#: Where each General MIDI program the tab offers (and the bands' chords and basses) can play, as MIDI pitches
#: (sounding): a line outside it is one no player could play, and a SoundFont's sample stretched past it sounds
#: wrong. Accordion: the stradella bass's lowest F up to the keyboard's A6, since the waltz band's chords are
#: left-hand; guitars sound an octave below their written notes.
RANGES = {
    0: (21, 108),  # Acoustic Grand Piano: A0-C8
    21: (41, 93),  # Accordion: F2-A6
    24: (40, 83),  # Acoustic Guitar (nylon): E2-B5
    25: (40, 86),  # Acoustic Guitar (steel): E2-D6
    32: (28, 67),  # Acoustic Bass: E1-G4
    33: (28, 67),  # Electric Bass (finger): E1-G4
    40: (55, 100),  # Violin: G3-E7
    56: (52, 84),  # Trumpet: E3-C6
    68: (58, 93),  # Oboe: Bb3-A6
    71: (50, 94),  # Clarinet (in Bb, sounding): D3-Bb6
    73: (60, 96),  # Flute: C4-C7
    74: (72, 98),  # Recorder (soprano, sounding an octave above written): C5-D7
    110: (55, 100),  # Fiddle: a violin
}


def octave_move(pitches, low: int, high: int) -> int:
    """The move by whole octaves (-36..+36 semitones) that leaves the fewest of ``pitches`` outside
    ``low``..``high``; the smallest move on a tie, so a line that fits is left where it is."""
    pitches = np.asarray(list(pitches))
    return min((0, -12, 12, -24, 24, -36, 36), key=lambda k: int(np.sum((pitches + k < low) | (pitches + k > high))))


def fold_into(pitch: int, low: int, high: int) -> int:
    """``pitch`` moved by octaves into ``low``..``high`` (a range at least an octave wide)."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def keep_in_range(inst, notices: list) -> None:
    """``inst``'s notes moved into its program's ``RANGES``: the whole line by octaves (it keeps its shape), then
    any note still outside by its own octave (a line wider than the instrument); the user told of either."""
    if inst.is_drum or not inst.notes or inst.program not in RANGES:
        return
    low, high = RANGES[inst.program]
    name = pretty_midi.program_to_instrument_name(inst.program)
    role = inst.name if inst.name in ("chords", "bass") else "melody"
    move = octave_move([n.pitch for n in inst.notes], low, high)
    folded = 0
    for n in inst.notes:
        folded += not low <= n.pitch + move <= high
        n.pitch = fold_into(n.pitch + move, low, high)
    if move:
        notices.append(f"The {role} lay outside the {name}'s range (MIDI {low}-{high}); it was moved "
                       f"{abs(move) // 12} octave(s) {'up' if move > 0 else 'down'}.")
    if folded:
        notices.append(f"{folded} note(s) of the {role} were still outside the {name}'s range and "
                       "were moved an octave or more into it.")


def _trained(vocab, name: str) -> list[str]:
    """The values of the condition tokens ``<name:value>`` in ``vocab``, sorted."""
    return sorted(t[len(name) + 2 : -1] for t in vocab or [] if t.startswith(f"<{name}:"))


def known_conditions(name: str = "lstm") -> dict[str, list[str]]:
    """The styles, meters and key signatures a bundled model was trained to follow
    ({"style": [...], "meter": [...], "key": [...]})."""
    vocab = load(name).vocab
    return {k: _trained(vocab, k) for k in ("style", "meter", "key")}


def conditions(bundle: Bundle, style: str | None = None, meter: str | None = None,
               signature: str | None = None) -> list[str]:
    """The condition tokens a model knows for ``style``, ``meter`` and key ``signature`` (a major tonic, as the
    model learned them), in the order it learned them; none for a model trained without them."""
    out = []
    for name, value in (("style", style), ("meter", meter), ("key", signature)):
        if value:
            token = f"<{name}:{value}>"
            if token not in bundle.vocab:
                known = _trained(bundle.vocab, name)
                raise ValueError(f"This model does not know the {name} {value!r}"
                                 + (f"; it knows: {', '.join(known)}." if known
                                    else f" (it was trained without {name}s)."))
            out.append(token)
    return out


def condition_context(bundle: Bundle, style: str | None = None, meter: str | None = None,
                      signature: str | None = None, temperature: float = 1.0, gen: torch.Generator | None = None):
    """<bos> and the condition tokens, as token ids: those asked for (``conditions``), and, for a condition the
    model knows but was not given (a style or meter left at "any"), the model's own draw among that condition's
    tokens: every training tune carries all of them, so leaving one out would ask for what no tune looked like."""
    index = {t: i for i, t in enumerate(bundle.vocab)}
    context = [index[BOS]]
    for name, value in (("style", style), ("meter", meter), ("key", signature)):
        known = _trained(bundle.vocab, name)
        if value:
            context.append(index[conditions(bundle, **{"signature" if name == "key" else name: value})[0]])
        elif known:
            ids = [index[f"<{name}:{v}>"] for v in known]
            logits = bundle.model(torch.tensor([context]))[0][0, -1, ids]  # log-probabilities, up to a constant
            context.append(ids[int(torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen))])
    return context


def melody_key(events):
    """The key (``core.key.estimate``: tonic and mode) of (pitch, quarter length) events by pitch-class
    durations; None without notes."""
    from core.key import estimate

    profile = np.zeros((12, 1))
    for p, d in events:
        if p != REST:
            profile[p % 12, 0] += d
    return estimate(profile) if profile.sum() else None


def major_offset(key) -> int:
    """Semitones (-6..+5) from C major to ``key``'s major key (a minor key counts as its relative major)."""

    tonic = PITCH_CLASSES.index(key.tonic)
    return ((tonic if key.mode == "major" else tonic + 3) + 6) % 12 - 6


def signature_for(bundle: Bundle, key: str | None = None, primer=None) -> str | None:
    """The key-signature token to sample with: the primer's key, else the one nearest the tonic asked for (the
    rest of the way is a transposition), else C (the collections' own); None for a model without key tokens."""
    trained = _trained(bundle.vocab, "key")
    if not trained:
        return None
    found = melody_key(primer) if primer else None
    off = major_offset(found) if found is not None else None
    if off is None and key:
        off = (KEYS.index(key) + 6) % 12 - 6
    name = KEYS[off % 12] if off is not None else "C"
    return name if name in trained else "C"


def sampling_seed(kind: str, seed: int) -> int:
    """The random stream a model samples with at ``seed``: the seed itself for the LSTM (its pieces, and the
    evaluation's, stay as they were), a hash of (model, seed) for the GAN. The GAN's generator is the LSTM
    fine-tuned briefly (150 steps at lr 1e-5: its weights differ by about 0.1%), so on the LSTM's stream the two
    wrote the same tune note for note at many seeds; its own stream makes choosing it choose another piece."""
    if kind == "lstm":
        return int(seed)
    digest = hashlib.sha256(f"{kind}:{int(seed)}".encode()).digest()  # stable across runs, unlike hash()
    return int.from_bytes(digest[:8], "little") >> 1  # torch seeds are non-negative 64-bit


@torch.no_grad()
def sample_lstm(bundle: Bundle, n_quarters: float, temperature: float, seed: int, primer=None, top_k: int = 0,
                style: str | None = None, meter: str | None = None, signature: str | None = None,
                notices: list | None = None, chosen: dict | None = None):
    """Events from an LSTM (or the GAN's LSTM generator), token by token from <bos>, the condition tokens and the
    primer; with the model's neural cache (``LSTMConfig.cache_lambda``) mixed into each step's distribution.
    ``notices`` is told the style and meter the model drew for those left at "any"; ``chosen`` gets every
    condition the piece was written under ({"style": ..., "meter": ..., "key": ...}), for the MIDI file."""
    vocab = bundle.vocab
    index = {t: i for i, t in enumerate(vocab)}
    gen = torch.Generator().manual_seed(sampling_seed(getattr(bundle, "kind", "lstm"), seed))
    head = condition_context(bundle, style, meter, signature, temperature, gen)
    asked = {"style": style, "meter": meter}
    drawn = [vocab[i][1:-1].replace(":", " ") for i in head[1:] if vocab[i][1:].split(":")[0] in asked
             and not asked[vocab[i][1:].split(":")[0]]]  # the conditions left at "any"
    if drawn and notices is not None:
        notices.append(f"Left at \"any\", the {bundle.kind.upper()} chose: {', '.join(drawn)}.")
    if chosen is not None:
        chosen.update(vocab[i][1:-1].split(":", 1) for i in head[1:])
    context = head + [index[event_token(p, d)] for p, d in (primer or []) if event_token(p, d) in index]
    banned = torch.tensor([index[t] for t in vocab if t.startswith("<") and t != EOS])
    theta, lam = bundle.model.config.cache_theta, bundle.model.config.cache_lambda
    logits, state, hidden = bundle.model(torch.tensor([context]), return_hidden=True)
    keys, values = list(hidden[0, :-1]), context[1:]  # each state, and the token that followed it
    events, total = [], 0.0
    while total < n_quarters:
        check_cancel()  # a 3-minute piece is ~2 s of steps
        allowed = torch.ones(len(vocab), dtype=torch.bool)
        allowed[banned] = False
        if total < earliest_end(n_quarters):
            allowed[index[EOS]] = False  # not before the tune has a phrase or two
        step_logits = (logits[0, -1] / temperature).masked_fill(~allowed, -math.inf)
        if top_k and top_k < int(allowed.sum()):
            kth = torch.topk(step_logits, top_k).values[-1]
            step_logits = step_logits.masked_fill(step_logits < kth, -math.inf)
        probs = torch.softmax(step_logits, dim=-1)
        query = hidden[0, -1]
        if lam > 0 and keys:
            cached = cache_probabilities(query, torch.stack(keys), torch.tensor(values), len(vocab), theta) * allowed
            if cached.sum() > 0:
                probs = (1 - lam) * probs + lam * cached / cached.sum()
        tok = int(torch.multinomial(probs, 1, generator=gen))
        if vocab[tok] == EOS:  # the tune has ended: it is played again from its start (below)
            break
        keys.append(query)
        values.append(tok)
        event = token_event(vocab[tok])
        if event is not None:  # a bar line is read back but has no length
            events.append(event)
            total += event[1]
        logits, state, hidden = bundle.model(torch.tensor([[tok]]), state, return_hidden=True)
    return play_again(events, n_quarters)


#: A generated tune may end (its end-of-tune token) once it is this long (about a held-out tune's median) and
#: has reached ``END_SHARE`` of the length asked for: a tune that stopped at half the length and was played again
#: made a piece that was a third replay, unlike any real tune.
MIN_TUNE_QUARTERS = 32.0
END_SHARE = 0.9


def earliest_end(n_quarters: float) -> float:
    """Quarters before which a tune of ``n_quarters`` asked for may not end."""
    return min(n_quarters, max(MIN_TUNE_QUARTERS, END_SHARE * n_quarters))


def play_again(events, n_quarters: float):
    """A tune that ended before the length asked for is played again from its start, as a folk tune is. (Going on
    after its end token instead would start a new tune in another key: the models learned tunes in 7 keys.)"""
    out = list(events)
    while events and sum(d for _, d in out) < n_quarters:
        out += events
    return out


def sample_markov(bundle: Bundle, n_quarters: float, temperature: float, seed: int, primer=None):
    rng = np.random.default_rng(seed)
    vocab = bundle.vocab
    index = {t: i for i, t in enumerate(vocab)}
    current = index[BOS]
    for p, d in primer or []:
        current = index.get(event_token(p, d), current)
    special = np.array([(t.startswith("<") and t != EOS) or t == BAR for t in vocab])
    eos = index[EOS]
    events, total = [], 0.0
    while total < n_quarters:
        p = bundle.model.next_distribution(current, temperature)
        p[special] = 0
        if total < earliest_end(n_quarters):
            p[eos] = 0
        if p.sum() == 0:
            p = (~special).astype(np.float64)
            p[eos] = 0
        current = int(rng.choice(len(vocab), p=p / p.sum()))
        if current == eos:  # the same rule as the LSTM's: the tune is played again
            break
        event = token_event(vocab[current])
        events.append(event)
        total += event[1]
    return play_again(events, n_quarters)


def _trim(events, n_quarters: float):
    out, total = [], 0.0
    for pitch, dur in events:
        if total >= n_quarters:
            break
        dur = min(dur, n_quarters - total)
        out.append((pitch, dur))
        total += dur
    return out


def events_to_midi(events, tempo: float = 120.0, program: int = 73, velocity: int = 90) -> pretty_midi.PrettyMIDI:
    """(pitch, quarter_length) events → a one-track PrettyMIDI at ``tempo`` BPM."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(program=int(program), name=pretty_midi.program_to_instrument_name(int(program)))
    beat = 60.0 / tempo
    t = 0.0
    for pitch, dur in events:
        if pitch != REST:
            # A slightly detached articulation keeps repeated notes audible.
            inst.notes.append(pretty_midi.Note(velocity, int(pitch), t, t + dur * beat * 0.95))
        t += dur * beat
    pm.instruments.append(inst)
    return pm


def time_signature(meter: str | None) -> tuple[int, int]:
    """(numerator, denominator) of a meter ("3/4", "6/8"); 4/4 for a meter that is no time signature ("free",
    "other") or none: a MIDI file without one is read as 4/4 anyway, so it is better written than implied."""
    n, _, d = str(meter or "").partition("/")
    return (int(n), int(d)) if n.isdigit() and d.isdigit() and int(n) > 0 and int(d) > 0 else (4, 4)


def bar_quarters(numerator: int, denominator: int) -> float:
    return numerator * 4 / denominator


def stamp(pm: pretty_midi.PrettyMIDI, meter: str | None = None, key=None) -> pretty_midi.PrettyMIDI:
    """``pm`` with its time signature (``time_signature(meter)``) and key signature (a ``core.key.Key``, e.g.
    ``melody_key``'s; none without one) at its start, replacing any: notation programs and DAWs read the bars
    and the accidentals from these, and pretty_midi writes 4/4 and no key when they are missing."""
    pm.time_signature_changes = [pretty_midi.TimeSignature(*time_signature(meter), 0.0)]
    pm.key_signature_changes = []
    if key is not None:
        number = pretty_midi.key_name_to_key_number(f"{key.tonic} {key.mode}")
        pm.key_signature_changes.append(pretty_midi.KeySignature(number, 0.0))
    return pm


def line_events(pm: pretty_midi.PrettyMIDI, max_events: int = 64) -> list[tuple[int, float]]:
    """The top line of ``pm``'s busiest melodic track as (pitch, quarter length) events, timed by its onsets: a
    note lasts until the next starts, or, when it fell silent half a beat or more before, as long as it sounded
    and a rest fills the gap; lengths are snapped to the corpus's, each against where the next onset really is
    (no drift). ``corpus.melody_events`` advances by each note's own snapped length instead, so a note snapped
    longer than it sounded hid the next: a hummed primer of 13 notes came back as 7 and many rests."""
    tracks = [inst for inst in pm.instruments if not inst.is_drum and inst.notes]
    if not tracks:
        return []
    tempi = pm.get_tempo_changes()[1]
    beat = 60.0 / (float(tempi[0]) if len(tempi) else 120.0)
    line = []
    for n in sorted(max(tracks, key=lambda inst: len(inst.notes)).notes, key=lambda n: (n.start, -n.pitch)):
        if not line or n.start - line[-1].start >= beat / 8:  # notes starting together: the top one
            line.append(n)
    origin, t, events = line[0].start, 0.0, []
    for note, after in zip(line, line[1:] + [None]):
        sounded = (note.end - note.start) / beat
        target = (after.start - origin) / beat if after else t + sounded
        if after and (after.start - note.end) / beat >= 0.5:
            events.append((note.pitch, snap_duration(sounded)))
            t += events[-1][1]
            if target - t >= 0.125:
                events.append((REST, snap_duration(target - t)))
        else:
            events.append((note.pitch, snap_duration(target - t)))
        t += events[-1][1]
        if len(events) >= max_events:
            break
    return events[:max_events]


def primer_events(path, max_events: int = 64) -> list[tuple[int, float]]:
    """The melody of a user's MIDI file, for priming; raises ValueError with a user-facing message."""
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception:
        raise ValueError("The primer is not a readable MIDI file.") from None
    if not any(inst.notes for inst in pm.instruments):
        raise ValueError("The primer MIDI has no notes.")
    if all(inst.is_drum for inst in pm.instruments if inst.notes):
        raise ValueError("The primer MIDI has only drums; give it a melody.")
    events = line_events(pm, max_events=max_events)
    if not events:
        raise ValueError("No melody could be read from the primer MIDI.")
    return events


#: The keys the models learned: every training tune moved to C (or A minor) and shifted -3..+3 semitones.
TRAINED_SHIFT = 3


def fit_primer(events, vocab) -> tuple[list, int, list[str]]:
    """A primer moved into what the model knows, and what was done, for the user.

    Returns (events, semitones it was moved by, notices). A primer in a key more than ``TRAINED_SHIFT``
    semitones from C major / A minor is transposed to the nearest trained key (the continuation is moved back by
    the caller); one out of the vocabulary's pitch range is moved by octaves; notes the vocabulary still lacks
    take the nearest length it has for that pitch, or are left out.
    """
    tokens = [e for e in map(token_event, vocab) if e is not None]
    lengths: dict[int, list[float]] = {}
    for p, d in tokens:
        lengths.setdefault(p, []).append(d)
    known = [p for p in lengths if p != REST]
    lo, hi = min(known), max(known)
    notes = [(p, d) for p, d in events if p != REST]
    notices, shift = [], 0
    if not notes:
        return [], 0, ["The primer has no notes; the piece starts from scratch."]
    key = melody_key(notes)
    off = major_offset(key) if key is not None else 0
    if abs(off) > TRAINED_SHIFT:
        shift = -off
        notices.append(f"The primer is in {key.describe()}; the model learned keys within "
                       f"{TRAINED_SHIFT} semitones of C major / A minor, so it was continued {abs(off)} semitones "
                       f"{'down' if off > 0 else 'up'} and the continuation moved back to {key.tonic} {key.mode}.")
    octave = octave_move([p + shift for p, _ in notes], lo, hi)
    if octave:
        notices.append(f"The primer lies outside the pitches the model knows (MIDI {lo}-{hi}); it was moved "
                       f"{abs(octave) // 12} octave(s) {'down' if octave < 0 else 'up'} for the model, and the "
                       "continuation moved back.")
    shift += octave
    fitted, dropped = [], 0
    for p, d in events:
        q = p if p == REST else p + shift
        if q not in lengths:
            dropped += 1
            continue
        fitted.append((q, min(lengths[q], key=lambda x: abs(x - d))))
    if dropped:
        notices.append(f"{dropped} primer note(s) lie outside the model's range and were left out of the primer.")
    return fitted, shift, notices


def generate(model="lstm", seconds: float = 30.0, temperature: float = 1.0, seed: int = 0, primer=None,
             tempo: float = 120.0, program: int = 73, notices: list | None = None, style: str | None = None,
             meter: str | None = None, key: str | None = None) -> pretty_midi.PrettyMIDI:
    """Generate ``seconds`` of melody with ``model`` (a name or a loaded Bundle) and return it as MIDI.

    ``primer``: a MIDI path or (pitch, quarter_length) events that the LSTM, the GAN and the Markov chain
    continue: the piece starts with it, as the user gave it, and goes on from it (the random model ignores it).
    ``seconds`` is the whole piece's length, primer included, but the continuation is at least
    ``MIN_CONTINUATION`` quarters (``notices`` says when that makes the piece longer). ``style`` and ``meter``:
    condition tokens of an LSTM trained with them (``conditions``). ``key``: a tonic ("G", "Eb") the piece is
    moved to (the models write near C: their tunes were all moved to C for training, so the key is chosen by
    transposing); ``notices`` says from which key, and how sure that estimate is.
    """
    seconds = clamp(seconds, MIN_SECONDS, MAX_SECONDS, "Length")
    temperature = clamp(temperature, MIN_TEMPERATURE, MAX_TEMPERATURE, "Temperature")
    tempo = clamp(tempo, MIN_TEMPO, MAX_TEMPO, "Tempo")
    seed, program = validate.seed(seed), program_number(program)
    bundle = load(model) if isinstance(model, (str, Path)) else model
    if isinstance(primer, (str, Path)):
        primer = primer_events(primer)
    n_quarters = seconds * tempo / 60.0
    notices = notices if notices is not None else []
    shift, lead = 0, []
    if primer and bundle.kind in ("lstm", "gan", "markov"):
        lead = [(int(p), float(d)) for p, d in primer]  # the piece starts with the primer as the user gave it
        n_quarters = continuation_quarters(lead, n_quarters, tempo, notices)
        primer, shift, told = fit_primer(primer, bundle.vocab)
        notices.extend(told)
    chosen = {}
    if bundle.kind in ("lstm", "gan"):
        if key:
            validate.choice(key, "Key", KEYS)
        events = sample_lstm(bundle, n_quarters, temperature, seed, primer, style=style, meter=meter,
                             signature=signature_for(bundle, key, primer), notices=notices, chosen=chosen)
    elif bundle.kind == "markov":
        events = sample_markov(bundle, n_quarters, temperature, seed, primer)
    else:
        events = random_events(n_quarters, np.random.default_rng(seed))
    if shift:  # back to the primer's own key and octave
        events = [(p if p == REST else p - shift, d) for p, d in events]
    events = lead + _trim(events, n_quarters)
    if key:
        events = to_key(events, key, notices, "The primer and its continuation" if lead else "The piece")
    pm = events_to_midi(events, tempo=tempo, program=program)
    return stamp(pm, meter or chosen.get("meter"), melody_key(events))


#: The least a primed piece goes on after its primer (two 4/4 bars), however short the length asked for.
MIN_CONTINUATION = 8.0


def continuation_quarters(lead, n_quarters: float, tempo: float, notices: list) -> float:
    """Quarters to generate after the primer ``lead`` for a piece of ``n_quarters`` in all."""
    have = sum(d for _, d in lead)
    more = max(n_quarters - have, MIN_CONTINUATION)
    if have + more > n_quarters + 1e-9:
        notices.append(f"The primer lasts {have * 60 / tempo:.1f} s of the {n_quarters * 60 / tempo:.1f} s asked "
                       f"for; the piece is the primer and {more * 60 / tempo:.1f} s of continuation.")
    return more


KEYS = PITCH_CLASSES  # the keys a piece can be moved to: core.key's spelling


def to_key(events, tonic: str, notices: list | None = None, what: str = "The piece"):
    """``events`` moved by the smallest interval that puts their estimated tonic on ``tonic`` (mode kept);
    ``notices`` is told the key estimated, how sure (``core.key.Key.describe``), and the move."""

    validate.choice(tonic, "Key", KEYS)
    found = melody_key(events)
    if found is None:
        return events
    shift = (KEYS.index(tonic) - PITCH_CLASSES.index(found.tonic) + 6) % 12 - 6
    if shift and notices is not None:
        notices.append(f"{what} estimated in {found.describe()} was moved {abs(shift)} semitone(s) "
                       f"{'up' if shift > 0 else 'down'} to {tonic} {found.mode}, the key asked for.")
    return [(p if p == REST else p + shift, d) for p, d in events]


# --- the tab's one call: generate, render, analyse, compare with a real tune ---

REFERENCE_FILE = MODEL_DIR / "reference_tunes.json"


@dataclass
class Composition:
    midi: pretty_midi.PrettyMIDI
    audio: np.ndarray
    sr: int
    analysis: object  # core.analysis.Analysis of the rendered piece
    reference_title: str
    reference_midi: pretty_midi.PrettyMIDI
    reference_analysis: object
    notices: list[str]
    model: str = "lstm"
    seed: int = 0

    def notes(self) -> list[dict]:
        """Every note of the piece: its track (melody, chords, bass, drums), pitch, start and end in seconds,
        velocity."""
        return [{"track": inst.name if inst.name in ("chords", "bass", "drums") else "melody", "pitch": n.pitch,
                 "start_s": round(n.start, 4), "end_s": round(n.end, 4),
                 "velocity": n.velocity} for inst in self.midi.instruments for n in inst.notes]

    def to_dict(self) -> dict:
        """JSON-ready: the model, the seed, the notices and the notes (the MIDI and audio go as files)."""
        return {"model": self.model, "seed": self.seed, "notices": list(self.notices), "notes": self.notes(),
                "sample_rate": self.sr, "reference_tune": self.reference_title}


def reference_tunes() -> list[dict]:
    """Held-out tunes shipped with the models (title, events), for side-by-side comparison."""
    return registry.get("generation:reference", lambda: json.loads(REFERENCE_FILE.read_text()))


def loss_history(name: str) -> dict:
    path = MODEL_DIR / name / "history.json"
    return json.loads(path.read_text()) if path.exists() else {}


def compose(model: str = "lstm", seconds: float = 30.0, temperature: float = 1.0, seed: int = 0, primer=None,
            tempo: float = 120.0, program: int = 73, soundfont: str | None = None, sr: int = 22_050,
            arrangement: str = "melody", style: str | None = None, meter: str | None = None,
            key: str | None = None) -> Composition:
    """Generate, arrange (``core.generation.arrange.STYLES``: "melody" for the line alone), render through
    FluidSynth, and analyse the piece next to a real held-out tune."""
    from core.analysis import analyse
    from core.render import render_midi

    notices = []
    validate.choice(model, "model", MODELS)
    seed, program = validate.seed(seed), program_number(program)
    for label, value, low, high in (("Length", seconds, MIN_SECONDS, MAX_SECONDS),
                                    ("Temperature", temperature, MIN_TEMPERATURE, MAX_TEMPERATURE),
                                    ("Tempo", tempo, MIN_TEMPO, MAX_TEMPO)):
        clamped = clamp(value, low, high, label)
        if clamped != float(value):
            notices.append(f"{label} {float(value):g} is outside {low:g}–{high:g}; used {clamped:g}.")
    if primer is not None and model == "random":
        notices.append("The random model does not continue a primer; it was ignored.")
        primer = None
    style, meter, key = (None if v in (None, "", "any") else v for v in (style, meter, key))
    if (style or meter) and model not in ("lstm", "gan"):
        notices.append(f"Only the LSTM and the GAN follow a style or meter; the {model} ignored them.")
        style = meter = None
    meter = band_meter(model, arrangement, meter, notices)
    pm = generate(model, seconds, temperature, seed, primer=primer, tempo=tempo, program=program, notices=notices,
                  style=style, meter=meter, key=key)
    check_cancel()  # between stages (each well under a second): a cancelled request stops here
    if arrangement != "melody":
        from core.generation.arrange import arrange

        pm = arrange(pm, clamp(tempo, MIN_TEMPO, MAX_TEMPO), arrangement, seed)
    for inst in pm.instruments:  # octave moves keep the pitch classes the chords were chosen from
        keep_in_range(inst, notices)
    check_cancel()
    rendered = render_midi(pm, sr=sr, soundfont=soundfont)
    if rendered.warning:
        notices.append(rendered.warning)
    check_cancel()
    seconds, tempo = clamp(seconds, MIN_SECONDS, MAX_SECONDS), clamp(tempo, MIN_TEMPO, MAX_TEMPO)
    ref_title, ref_pm, ref_analysis = _reference(seed % len(reference_tunes()), seconds, tempo, program, soundfont, sr)
    check_cancel()
    return Composition(
        midi=pm, audio=rendered.audio, sr=sr, analysis=analyse(rendered.audio, sr, tempo_and_key=False),
        reference_title=ref_title, reference_midi=ref_pm, reference_analysis=ref_analysis,
        notices=notices, model=model, seed=seed,
    )


def band_meter(model: str, arrangement: str, meter: str | None, notices: list) -> str | None:
    """The meter to write the melody in under ``arrangement``'s band: the band's (3/4 for the waltz) when the
    meter was left at "any" and the model knows it, so the tune and the accompaniment share their bars; a meter
    chosen with other bars is kept, and the user told that the band plays its own."""
    from core.generation.arrange import STYLES

    spec = STYLES.get(arrangement) if isinstance(arrangement, str) else None
    if not spec:
        return meter
    band = f"{spec['meter']}/4"
    if meter is None and model in ("lstm", "gan") and band in known_conditions(model)["meter"]:
        notices.append(f"The {arrangement} band plays {band} bars, so the {model.upper()} wrote the melody in {band}.")
        return band
    if meter is not None and bar_quarters(*time_signature(meter)) != spec["meter"]:
        notices.append(f"The {arrangement} band plays {band} bars under the {meter} melody; the MIDI file is "
                       f"marked {band}.")
    return meter


@functools.lru_cache(maxsize=16)
def _reference(index: int, seconds: float, tempo: float, program: int, soundfont: str | None, sr: int):
    """The held-out tune ``index`` as (title, MIDI, analysis), rendered like the piece: the same settings come
    back often (a user tries seeds and temperatures), and a render loads the whole SoundFont (0.2 s)."""
    from core.analysis import analyse
    from core.render import render_midi

    ref = reference_tunes()[index]
    ref_pm = events_to_midi(_trim([tuple(e) for e in ref["events"]], seconds * tempo / 60), tempo=tempo,
                            program=program)
    return ref["title"], ref_pm, analyse(render_midi(ref_pm, sr=sr, soundfont=soundfont).audio, sr, tempo_and_key=False)


CAPABILITY = register(Capability(
    "generation", run=compose, result=Composition, load=load, models_dir=MODEL_DIR, default_model="lstm",
    bundled=lambda: sorted(p.name for p in MODEL_DIR.iterdir() if (p / "config.json").exists()),
    examples=(MODEL_DIR.parents[1] / "examples" / "generation" / "primer_flute_melody.ogg",),
    evaluate="python -m core.generation.evaluate --write-cards"))
