"""Objective metrics of generated melodies against held-out tunes.

Every metric is a distance to the held-out set (lower is better) so that a
generator "beats" a baseline metric by metric:

- ``pitch_class_histogram``: L1 distance between pooled pitch-class histograms, each piece moved to C by its
  estimated key;
- ``pitch_range``: |mean range per piece − held-out mean| in semitones;
- ``scale_consistency``: |mean best-fitting-major-scale share − held-out mean|;
- ``note_length``: L1 distance between pooled duration histograms;
- ``repetition``: |mean share of repeated 4-interval patterns − held-out mean|;
- ``copy``: the longest pitch n-gram a piece shares with the training set
  (mean over pieces), reported beside the held-out tunes' own value so that
  "replaying the corpus" shows up as a higher number than real new tunes get.

    python -m core.generation.evaluate            # prints the table (JSON) for the bundled models
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from core.data.corpus import DURATIONS, REST

Events = Sequence[tuple[int, float]]
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


def pitches(events: Events) -> list[int]:
    return [p for p, _ in events if p != REST]


def to_c(events: Events) -> list[tuple[int, float]]:
    """``events`` moved so that their estimated key (pitch-class durations, Krumhansl-Kessler; a minor key by its
    relative major) is C major, as the corpus moved each tune to C by its key signature."""
    from core.generation.api import major_offset, melody_key

    key = melody_key(events)
    off = major_offset(key) if key is not None else 0
    return [(p if p == REST else p - off, d) for p, d in events]


def pitch_class_histogram(pieces: Sequence[Events], key_normalise: bool = True) -> np.ndarray:
    """Pooled pitch-class distribution, each piece first moved to C by its estimated key (``to_c``): a tune in
    D counts as one in C. Real tunes and generated ones go through the same estimate, so a set of real tunes
    scores near zero. (Rotating each piece to whichever transposition best matches the reference, as this
    did before, pulled minor and modal tunes onto the major profile: 300 real training tunes scored 0.124.)"""
    total = np.zeros(12)
    for events in pieces:
        ps = pitches(to_c(events) if key_normalise else events)
        total += np.bincount(np.array(ps, dtype=int) % 12, minlength=12)
    return total / max(total.sum(), 1)


def duration_histogram(pieces: Sequence[Events]) -> np.ndarray:
    h = np.zeros(len(DURATIONS))
    for events in pieces:
        for _, d in events:
            h[int(np.argmin([abs(d - x) for x in DURATIONS]))] += 1
    return h / max(h.sum(), 1)


def pitch_range(events: Events) -> float:
    ps = pitches(events)
    return float(max(ps) - min(ps)) if ps else 0.0


def scale_consistency(events: Events) -> float:
    """Share of notes inside the best-fitting major scale (minor modes share a relative major)."""
    ps = np.array(pitches(events)) % 12
    if ps.size == 0:
        return 0.0
    return max(float(np.isin(ps, (MAJOR + k) % 12).mean()) for k in range(12))


def interval_grams(events: Events, n: int = 4) -> list[tuple]:
    """The piece's melodic interval n-grams in order (a motif and its transpositions are the same gram)."""
    ps = pitches(events)
    intervals = [b - a for a, b in zip(ps, ps[1:])]
    return [tuple(intervals[i:i + n]) for i in range(len(intervals) - n + 1)]


def repetition(events: Events, n: int = 4) -> float:
    """Share of the piece's interval n-grams that occur more than once in it (motivic repetition)."""
    grams = interval_grams(events, n)
    if not grams:
        return 0.0
    counts: dict = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    return sum(1 for g in grams if counts[g] > 1) / len(grams)


#: how far back a repeated 4-interval pattern was last heard, in notes: within a phrase, a phrase later, further
REPEAT_GAPS = ((1, 13), (13, 25), (25, 10_000))


def repeat_gaps(pieces: Sequence[Events], n: int = 4) -> dict:
    """Per gap range of ``REPEAT_GAPS``: the share of the pieces' interval n-grams that repeat one heard that many
    n-grams before (a motif answered in the next bar or two, a phrase repeated, a tune played again)."""
    counts, total = np.zeros(len(REPEAT_GAPS)), 0
    for events in pieces:
        last: dict = {}
        for i, g in enumerate(interval_grams(events, n)):
            if g in last:
                counts += [lo <= i - last[g] < hi for lo, hi in REPEAT_GAPS]
            last[g] = i
            total += 1
    return {f"{lo}-{hi - 1}" if hi < 10_000 else f"{lo}+": float(c / max(total, 1))
            for (lo, hi), c in zip(REPEAT_GAPS, counts)}


def ngram_index(pieces: Sequence[Events], max_n: int = 32) -> dict[int, set]:
    """Hashes of every pitch n-gram (n = 4..max_n, powers-of-two-ish grid) of the training set."""
    index: dict[int, set] = {}
    seqs = [tuple(pitches(e)) for e in pieces]
    for n in range(4, max_n + 1):
        index[n] = {hash(s[i:i + n]) for s in seqs for i in range(len(s) - n + 1)}
    return index


def longest_copy(events: Events, index: dict[int, set]) -> int:
    """Length of the longest pitch n-gram of ``events`` also found in the training set (0 if < 4)."""
    s = tuple(pitches(events))
    best = 0
    for n in sorted(index):
        grams = index[n]
        if any(hash(s[i:i + n]) in grams for i in range(len(s) - n + 1)):
            best = n
        else:
            break  # a longer shared n-gram contains a shorter one
    return best


def reference_stats(held_out: Sequence[Events]) -> dict:
    return {
        "pch": pitch_class_histogram(held_out),
        "dur": duration_histogram(held_out),
        "range": float(np.mean([pitch_range(e) for e in held_out])),
        "scale": float(np.mean([scale_consistency(e) for e in held_out])),
        "repetition": float(np.mean([repetition(e) for e in held_out])),
    }


def piece_stats(pieces: Sequence[Events]) -> dict:
    """Each piece's own numbers, from which ``compare``'s distances pool: pitch-class counts (n, 12) (key-normalised),
    duration counts (n, len(DURATIONS)), range, scale consistency and repetition (n,)."""
    return {
        "pch": np.stack([pitch_class_histogram([e]) * len(pitches(e)) for e in pieces]),
        "dur": np.stack([duration_histogram([e]) * len(e) for e in pieces]),
        "range": np.array([pitch_range(e) for e in pieces]),
        "scale": np.array([scale_consistency(e) for e in pieces]),
        "repetition": np.array([repetition(e) for e in pieces]),
    }


def distances(stats: dict, ref: dict, chosen=slice(None)) -> dict:
    """``compare``'s five distances for the pieces ``chosen`` (indices into ``piece_stats``)."""
    pooled = lambda counts: counts.sum(0) / max(counts.sum(), 1)  # noqa: E731
    return {
        "pitch_class_histogram": float(np.abs(pooled(stats["pch"][chosen]) - ref["pch"]).sum()),
        "pitch_range": abs(float(stats["range"][chosen].mean()) - ref["range"]),
        "scale_consistency": abs(float(stats["scale"][chosen].mean()) - ref["scale"]),
        "note_length": float(np.abs(pooled(stats["dur"][chosen]) - ref["dur"]).sum()),
        "repetition": abs(float(stats["repetition"][chosen].mean()) - ref["repetition"]),
    }


#: resamples of the pieces behind each distance's spread (``compare(..., spread=True)``)
BOOTSTRAP = 200


def compare(pieces: Sequence[Events], ref: dict, index: dict[int, set] | None = None, spread: bool = False,
            seed: int = 0) -> dict:
    """Distances of generated ``pieces`` to the held-out reference statistics; with ``spread``, also each
    distance's standard deviation over ``BOOTSTRAP`` resamples of the pieces (how much another set of pieces
    from the same system could move it) under "spread"."""
    stats = piece_stats(pieces)
    out = distances(stats, ref)
    if spread:
        rng = np.random.default_rng(seed)
        draws = [distances(stats, ref, rng.integers(0, len(pieces), len(pieces))) for _ in range(BOOTSTRAP)]
        out["spread"] = {k: float(np.std([d[k] for d in draws])) for k in draws[0]}
    if index is not None:
        out["copy_longest_ngram"] = float(np.mean([longest_copy(e, index) for e in pieces]))
    return out


def tune_quarters(events: Events) -> float:
    return float(sum(d for _, d in events))


def evaluate_models(models=("lstm", "gan", "markov", "random"), n_pieces: int = 752, temperature: float = 1.0,
                    seed: int = 0, tempo: float = 120.0, split: str = "test") -> dict:
    """The README table: every model's distances to the held-out tunes (needs the parsed corpus).

    ``split="validation"`` judges against the networks' validation tunes instead (5% of the training split, as
    train.py cuts them), so that sampling settings can be chosen without looking at the held-out tunes.

    Piece i stands beside held-out tune i (cycling: 752 pieces are two beside each of the 376 held-out tunes, so
    that a system's own sampling moves its distances less): it is as long (range and repetition grow with a tune's
    length, so pieces longer than the tunes would be judged on their length) and, for a model that knows meters and
    styles, asked for that tune's meter in the Essen style.
    """
    from core.data.corpus import load_folk_corpus, melody_events, split_by_tune
    from core.generation.api import MAX_SECONDS, MIN_SECONDS, generate, known_conditions, load
    from core.generation.train import meter_condition

    if split not in ("test", "validation"):  # before the corpus is parsed (minutes on a fresh machine)
        raise ValueError(f"split must be 'test' or 'validation', not {split!r}")
    train, held_out = split_by_tune(load_folk_corpus())
    if split == "validation":  # as train.py cuts the networks' validation tunes from the training split
        train, held_out = split_by_tune(train, holdout=0.05, seed=1)
    beside = [held_out[i % len(held_out)] for i in range(n_pieces)]
    # the reference is the tunes the pieces stand beside: pooled over every held-out tune while the pieces were
    # asked for the meters of the first n_pieces only, a meter-following model was judged on a meter mix it was
    # never asked for, and the chain (which follows none) was not
    reference = held_out[:n_pieces]
    ref = reference_stats([t.events for t in reference])
    index = ngram_index([t.events for t in train])
    table = {"reference_tunes": len(reference),
             "held_out_tunes": {"copy_longest_ngram": float(np.mean([longest_copy(t.events, index) for t in beside]))}}
    # What real tunes score: beside each held-out tune a training tune in its meter, whole, as the generators are
    # asked for that meter (the pooled histograms of real tunes are not the held-out ones either: each tune has
    # its own, so a set of them lies this far off; in any meter, a sixth of Essen's in half- and whole-note meters
    # would be judged on their meter mix)
    rng, by_meter = np.random.default_rng(seed), {}
    for t in train:
        by_meter.setdefault(t.meter, []).append(t)
    pools = [by_meter.get(t.meter) or train for t in beside]
    real = [pool[rng.integers(len(pool))].events for pool in pools]
    table["real_training_tunes"] = compare(real, ref, spread=True)
    musical = {"held_out_tunes": muspy_metrics([t.events for t in beside])}
    gaps = {"held_out_tunes": repeat_gaps([t.events for t in beside])}
    for name in models:
        known = known_conditions(name) if load(name).vocab else {"style": [], "meter": []}
        pieces = []
        for i, tune in enumerate(beside):
            seconds = min(max(tune_quarters(tune.events) * 60 / tempo, MIN_SECONDS), MAX_SECONDS)
            meter = meter_condition(tune.meter)  # as train.py tokenises it
            pieces.append(melody_events(generate(
                name, seconds=seconds, temperature=temperature, seed=seed + i, tempo=tempo,
                style="essen" if "essen" in known["style"] else None,
                meter=meter if meter in known["meter"] else None)))
        table[name] = compare(pieces, ref, index, spread=True)
        musical[name] = muspy_metrics(pieces)
        gaps[name] = repeat_gaps(pieces)
    table["muspy"] = musical
    table["repeat_gaps"] = gaps
    if "lstm" in models and split == "test":
        table["conditioning"] = conditioning_check("lstm", n_pieces=min(60, max(5, n_pieces // 5)), seed=seed)
    return table


def conditioning_check(name: str = "lstm", n_pieces: int = 20, seconds: float = 32.0, seed: int = 0) -> dict:
    """What the style and meter tokens do: per (style, meter), the share of each note length in the pieces."""
    from core.data.corpus import melody_events
    from core.generation.api import generate, known_conditions

    known = known_conditions(name)
    out = {}
    for style in known["style"]:
        for meter in [m for m in ("4/4", "3/4", "6/8", "4/2") if m in known["meter"]]:
            lengths = [d for i in range(n_pieces) for _, d in melody_events(
                generate(name, seconds=seconds, seed=seed + i, tempo=120, style=style, meter=meter))]
            out[f"{style} {meter}"] = {str(d): round(lengths.count(d) / max(len(lengths), 1), 3)
                                       for d in (0.25, 0.5, 1.0, 2.0, 4.0)}
    return out


#: muspy's metrics, as the MIDI-generation literature reports them: closer to the real tunes' values is better.
MUSPY_METRICS = ("pitch_class_entropy", "scale_consistency", "empty_beat_rate", "groove_consistency", "polyphony")


def muspy_metrics(pieces: Sequence[Events], tempo: float = 120.0) -> dict:
    """The mean of muspy's five metrics over ``pieces`` ((pitch, quarter length) events), each rendered to MIDI at
    ``tempo`` (muspy, not written again here)."""
    import muspy

    from core.generation.api import events_to_midi

    values = {m: [] for m in MUSPY_METRICS}
    for events in pieces:
        music = muspy.from_pretty_midi(events_to_midi(events, tempo=tempo))
        bar = music.resolution * 4  # 4/4 bars, as the tunes are written and generated
        for m in MUSPY_METRICS:
            v = (muspy.groove_consistency(music, measure_resolution=bar) if m == "groove_consistency"
                 else getattr(muspy, m)(music))
            if v is not None and np.isfinite(v):
                values[m].append(float(v))
    return {m: round(float(np.mean(v)), 4) if v else None for m, v in values.items()}


def export_reference(n: int = 24, path=None) -> str:
    """Write ``n`` held-out tunes (title, events) next to the models, for the tab's side-by-side plots."""
    from core.data.corpus import load_folk_corpus, split_by_tune
    from core.generation.api import REFERENCE_FILE

    _, held_out = split_by_tune(load_folk_corpus())
    chosen = [t for t in held_out if len(t.events) >= 40][:n]
    path = path or REFERENCE_FILE
    with open(path, "w") as f:
        json.dump([{"title": t.title, "source": t.source, "events": t.events} for t in chosen], f)
    return str(path)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Objective metrics of the bundled generators vs held-out tunes.")
    parser.add_argument("--pieces", type=int, default=752,
                        help="pieces per model, each beside a held-out tune (752: two beside each of the 376)")
    parser.add_argument("--out", help="also write the table to this JSON file")
    parser.add_argument("--models", default="lstm,gan,markov,random", help="names or trained folders, comma-separated")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature of every model")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="judge against the held-out tunes (test) or the networks' validation tunes")
    parser.add_argument("--reference", action="store_true",
                        help="(re)write assets/models/generation/reference_tunes.json")
    parser.add_argument("--write-cards", action="store_true", help="store each model's row in its card.json")
    parser.add_argument("--write", action="store_true",
                        help="write docs/figures/generation_eval.json (the README table)")
    args = parser.parse_args()
    if args.reference:
        print(export_reference())
    if (args.write or args.write_cards) and (args.split != "test" or args.models != parser.get_default("models")):
        parser.error("--write and --write-cards are for the bundled models on the held-out tunes")
    table = evaluate_models(models=tuple(args.models.split(",")), n_pieces=args.pieces, temperature=args.temperature,
                            split=args.split)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(table, f, indent=2)
    if args.write:
        from core.training import ASSETS

        (ASSETS.parent / "docs" / "figures" / "generation_eval.json").write_text(json.dumps(
            {**table, "pieces": args.pieces, "bootstrap": BOOTSTRAP,
             "command": f"python -m core.generation.evaluate --pieces {args.pieces} "
                                                         "--write-cards --write"}, indent=2) + "\n")
    if args.write_cards:
        from core.generation.api import MODEL_DIR
        from core.generation.train import CARD_NOTES
        from core.training import update_card

        for name in ("lstm", "gan", "markov"):  # merged: the training facts in the card stay
            update_card(MODEL_DIR / name, {"distance_to_held_out": table[name],
                                           "baselines": {k: table[k] for k in ("random", "markov", "held_out_tunes",
                                                                               "real_training_tunes")}},
                        f"python -m core.generation.evaluate --pieces {args.pieces} --write-cards",
                        data=f"{args.pieces} pieces per model (seeds 0-{args.pieces - 1}), each as long as the "
                             "held-out Essen tune beside it and in its meter, against the held-out Essen tunes "
                             "(core.data.corpus.split_by_tune)", notes=CARD_NOTES[name])
    print(json.dumps(table, indent=2))
