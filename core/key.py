"""Musical key from chroma: the Krumhansl–Kessler key profiles, correlated with the recording's mean chroma; and
from chroma and chords together (:func:`estimate_with_chords`), which adds the chords' own pitch profile and a
final-chord (cadence) cue.

>>> import numpy as np
>>> c_major_scale = np.zeros((12, 8)); c_major_scale[[0, 2, 4, 5, 7, 9, 11]] = 1; c_major_scale[[0, 4, 7]] += 1
>>> estimate(c_major_scale).name
'C major'
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


#: estimate_with_chords: weight of the chords' pitch-profile correlation beside the chroma's, and the score added
#: to keys whose tonic is the root of the last chord (cadences end on the tonic). Chosen on chorales 61–120 of
#: music21's corpus (``python -m core.key --tune 60``), never on the 60 that --evaluate scores.
CHORD_PROFILE_WEIGHT = 0.25
FINAL_CHORD_BONUS = 0.1
#: chord tones count once per second of chord, the root this many times (it carries the harmony's function)
ROOT_WEIGHT = 2.0
#: confidence = softmax(score / CONFIDENCE_TEMPERATURE) of the best of the 24 keys
CONFIDENCE_TEMPERATURE = 0.05


@dataclass(frozen=True)
class Key:
    tonic: str
    mode: str  # "major" or "minor"
    correlation: float  # Pearson r of the mean chroma with the key's profile
    runner_up: str  # the next best key
    margin: float  # score(best) - score(runner up): near 0 means the two are hard to tell apart
    confidence: float | None = None  # softmax probability of the best key among the 24, 0..1
    evidence: str = "chroma"  # "chroma", "chroma+chords" or "chords"

    @property
    def name(self) -> str:
        return f"{self.tonic} {self.mode}"

    def describe(self) -> str:
        return f"{self.name} (r = {self.correlation:.2f}; next {self.runner_up}, {self.margin:+.2f})"


def relative_key(name: str) -> str | None:
    """The relative minor of a major key and the relative major of a minor one ("C major" ↔ "A minor"): the same
    notes, the pair a DJ mixes into each other. None for a name that is not a key."""
    try:
        tonic, mode = name.split()
        t = PITCH_CLASSES.index(tonic)
    except ValueError:
        return None
    if mode == "major":
        return f"{PITCH_CLASSES[(t + 9) % 12]} minor"
    return f"{PITCH_CLASSES[(t + 3) % 12]} major" if mode == "minor" else None


def key_names() -> list[tuple[str, str]]:
    """The 24 keys in score order: C..B major, then C..B minor."""
    return [(PITCH_CLASSES[t], mode) for mode in ("major", "minor") for t in range(12)]


def profile_scores(profile: np.ndarray) -> np.ndarray | None:
    """(24,) Pearson r of a 12-bin pitch-class profile with each key's Krumhansl–Kessler profile, in
    :func:`key_names` order; None for a flat or non-finite profile."""
    profile = np.asarray(profile, dtype=float)
    if not np.isfinite(profile).all() or np.ptp(profile) <= 1e-9:
        return None
    return np.array([np.corrcoef(profile, np.roll(template, tonic))[0, 1]
                     for template in (MAJOR, MINOR) for tonic in range(12)])


def _pick(scores: np.ndarray, correlation: np.ndarray, evidence: str, order: list[int] | None = None) -> Key:
    """The Key for (24,) ``scores`` (best first by ``order`` if given, else by score)."""
    order = list(np.argsort(-scores, kind="stable")) if order is None else order
    (t1, m1), (t2, m2) = key_names()[order[0]], key_names()[order[1]]
    z = (scores - scores.max()) / CONFIDENCE_TEMPERATURE
    confidence = float(np.exp(z[order[0]]) / np.exp(z).sum())
    return Key(t1, m1, round(float(correlation[order[0]]), 3), f"{t2} {m2}",
               round(float(scores[order[0]] - scores[order[1]]), 3), round(confidence, 3), evidence)


def estimate(chroma: np.ndarray) -> Key | None:
    """The best-matching of the 24 major and minor keys for chroma (12, frames); None for no pitch content."""
    scores = profile_scores(np.asarray(chroma, dtype=float).mean(axis=1))
    if scores is None:
        return None
    names = key_names()  # ties broken as always: the higher (r, tonic name, mode) wins
    order = sorted(range(24), key=lambda i: (scores[i], names[i][0], names[i][1]), reverse=True)
    return _pick(scores, scores, "chroma", order)


def _segments(chords) -> list[tuple[float, float, str]]:
    """(start, end, label) from a core.chords.Chords, or from any iterable of such triples."""
    segs = getattr(chords, "segments", chords)
    return [(float(s.start), float(s.end), s.label) if hasattr(s, "label") else (float(s[0]), float(s[1]), s[2])
            for s in segs]


def _chord_pcs(label: str) -> tuple[int, list[int]] | None:
    """(root pitch class, sounding pitch classes) of a Harte label; None for N, X or unparsable labels."""
    import mir_eval

    try:
        root, bitmap, _ = mir_eval.chord.encode(label)
    except mir_eval.chord.InvalidChordException:
        return None
    if root < 0 or not bitmap.any():
        return None
    return root, [(root + i) % 12 for i in np.flatnonzero(bitmap)]


def chord_profile(chords) -> np.ndarray:
    """(12,) pitch-class weight of a chord sequence: each chord's tones count its duration (seconds), the root
    ROOT_WEIGHT times as much; no-chord segments count nothing."""
    profile = np.zeros(12)
    for start, end, label in _segments(chords):
        pcs = _chord_pcs(label)
        if pcs is None or end <= start:
            continue
        root, tones = pcs
        profile[tones] += end - start
        profile[root] += (ROOT_WEIGHT - 1) * (end - start)
    return profile


def final_root(chords) -> int | None:
    """Pitch class of the root of the last chord (N and X skipped), or None."""
    for _, _, label in reversed(_segments(chords)):
        pcs = _chord_pcs(label)
        if pcs is not None:
            return pcs[0]
    return None


def combined_scores(chroma_scores: np.ndarray | None, chord_scores: np.ndarray | None, last_root: int | None,
                    chord_weight: float = CHORD_PROFILE_WEIGHT, final_bonus: float = FINAL_CHORD_BONUS) -> np.ndarray:
    """(24,) r_chroma + chord_weight · r_chords + final_bonus · [tonic = root of the last chord]; a missing part
    counts zero."""
    scores = np.zeros(24)
    if chroma_scores is not None:
        scores += chroma_scores
    if chord_scores is not None:
        scores += chord_weight * chord_scores
    if last_root is not None and (chroma_scores is not None or chord_scores is not None):
        scores[[last_root, 12 + last_root]] += final_bonus
    return scores


def estimate_with_chords(chroma: np.ndarray | None, chords) -> Key | None:
    """The key from chroma (12, frames) and chords (a core.chords.Chords or (start, end, label) triples, seconds)
    together; falls back to either alone. ``correlation`` is still the chroma's r for the chosen key (the chords'
    r where there is no chroma); ``confidence`` and ``margin`` are on the combined score. None without pitch."""
    chroma_scores = profile_scores(np.asarray(chroma, dtype=float).mean(axis=1)) if chroma is not None else None
    chord_scores = profile_scores(chord_profile(chords))
    if chroma_scores is None and chord_scores is None:
        return None
    scores = combined_scores(chroma_scores, chord_scores, final_root(chords))
    evidence = "chroma+chords" if chroma_scores is not None and chord_scores is not None else (
        "chroma" if chroma_scores is not None else "chords")
    return _pick(scores, chroma_scores if chroma_scores is not None else chord_scores, evidence)


# ----------------------------------------------------------------------------- measured on rendered chorales

FIGURE = Path(__file__).resolve().parent.parent / "docs" / "figures" / "key_eval.json"
#: music21 spells flats with "-": its key names → ours
_M21 = {"C#": "C#", "D-": "C#", "D#": "Eb", "E-": "Eb", "F#": "F#", "G-": "F#", "G#": "Ab", "A-": "Ab", "A#": "Bb",
        "B-": "Bb", "C-": "B", "B#": "C", "E#": "F", "F-": "E"}


def measured() -> dict | None:
    """The summary ``python -m core.key --evaluate N --write`` wrote (None before it ran)."""
    if not FIGURE.exists():
        return None
    return {k: v for k, v in json.loads(FIGURE.read_text()).items() if k != "rows"}


def chorale_items(n: int = 60, skip: int = 0) -> list[tuple[str, str, object]]:
    """(name, notated key, score) for Bach chorales of music21's corpus with a major/minor key in the file, sorted by
    file name: the ``n`` after the first ``skip`` (--evaluate uses 0–59, --tune 60–119)."""
    from music21 import corpus
    from music21 import key as m21key

    out, seen = [], 0
    for path in sorted(corpus.getComposer("bach"), key=lambda p: p.name):
        score = corpus.parse(path)
        keys = list(score.recurse().getElementsByClass(m21key.Key))
        if keys and keys[0].mode in ("major", "minor"):
            seen += 1
            if seen > skip:
                tonic = keys[0].tonic.name
                out.append((path.name, f"{_M21.get(tonic, tonic)} {keys[0].mode}", score))
        if len(out) == n:
            break
    return out


#: music21 triad qualities → Harte; anything else ("other") is X, which mir_eval's majmin and root skip
_QUALITY = {"major": "maj", "minor": "min", "diminished": "dim", "augmented": "aug"}


def _harte(chord) -> str:
    if not getattr(chord, "isChord", False):
        return "N"  # a rest in every voice
    quality = _QUALITY.get(chord.quality)
    return f"{chord.root().name.replace('-', 'b')}:{quality}" if quality else "X"


def chorale_chords(score, pm) -> tuple[np.ndarray, list[str]]:
    """The chorale's harmony as truth: ``chordify()``, the sonority sounding at each beat (quarter note), its root
    and triad quality (music21) as a Harte label, equal neighbours merged. Intervals (n, 2) in seconds through the
    tempo map of ``pm``, the PrettyMIDI the audio was rendered from (so pickups and fermatas line up)."""
    flat = score.chordify().flatten()
    events = sorted(flat.notesAndRests, key=lambda e: float(e.offset))
    onsets = np.array([float(e.offset) for e in events])
    beats = np.arange(int(np.ceil(float(flat.highestTime))))
    labels = [_harte(events[max(int(np.searchsorted(onsets, b, side="right")) - 1, 0)]) for b in beats]
    bounds, merged = [0.0], []
    for b, label in zip(beats, labels):
        if merged and merged[-1] == label:
            bounds[-1] = float(b + 1)
        else:
            merged.append(label)
            bounds.append(float(b + 1))
    bounds[-1] = float(flat.highestTime)
    seconds = [pm.tick_to_time(int(round(q * pm.resolution))) for q in bounds]
    return np.array(list(zip(seconds[:-1], seconds[1:]))), merged


def chord_scores(ref: tuple[np.ndarray, list[str]], chords) -> dict[str, float]:
    """mir_eval.chord majmin and root (duration-weighted over the reference's scorable time) of ``chords``."""
    import mir_eval

    est_int, est_lab = chords.intervals, chords.labels
    ref_int, ref_lab = ref
    est_int, est_lab = mir_eval.util.adjust_intervals(est_int, est_lab, ref_int.min(), ref_int.max(),
                                                      mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD)
    merged, r, e = mir_eval.util.merge_labeled_intervals(ref_int, ref_lab, est_int, est_lab)
    durations = mir_eval.util.intervals_to_durations(merged)
    return {m: float(mir_eval.chord.weighted_accuracy(getattr(mir_eval.chord, m)(r, e), durations))
            for m in ("majmin", "root")}


def _analyse(name: str, score, sr: int) -> dict:
    """Render one chorale and gather what the key and chord measures need."""
    import pretty_midi

    from core import features
    from core.chords import crema, template
    from core.render import render_midi

    midi = Path("/tmp") / f"key_eval_{name}.mid"
    score.write("midi", fp=str(midi))
    pm = pretty_midi.PrettyMIDI(str(midi))
    midi.unlink(missing_ok=True)
    audio = render_midi(pm, sr=sr).audio
    chroma = features.chroma(audio, sr)
    truth = chorale_chords(score, pm)
    ours = crema.recognise(audio, sr)
    ours_argmax = crema.recognise(audio, sr, decode="argmax")
    base = template.recognise_chroma(chroma, features.HOP_LENGTH / sr, len(audio) / sr)
    chords_of = {"crema": ours, "template": base,
                 "truth": list(zip(truth[0][:, 0], truth[0][:, 1], truth[1]))}
    return {"chroma": chroma,
            "chroma_scores": profile_scores(chroma.mean(axis=1)),
            "chord_scores": {k: profile_scores(chord_profile(c)) for k, c in chords_of.items()},
            "final_root": {k: final_root(c) for k, c in chords_of.items()},
            "chords": {"crema": chord_scores(truth, ours), "crema_argmax": chord_scores(truth, ours_argmax),
                       "template": chord_scores(truth, base)}}


def _key_from(piece: dict, source: str | None, chord_weight: float, final_bonus: float) -> Key | None:
    """The key from a piece's chroma and the chords of ``source`` (None: chroma only, as :func:`estimate`)."""
    if source is None:
        return estimate(piece["chroma"])
    scores = combined_scores(piece["chroma_scores"], piece["chord_scores"][source], piece["final_root"][source],
                             chord_weight, final_bonus)
    return _pick(scores, piece["chroma_scores"], "chroma+chords")


def _key_summary(truths: list[str], keys: list[Key | None]) -> dict:
    import mir_eval

    guesses = [k.name if k else "C major" for k in keys]
    scores = np.array([mir_eval.key.weighted_score(t, g) for t, g in zip(truths, guesses)])
    runner = sum(bool(k) and k.runner_up == t for k, t in zip(keys, truths))
    conf = [k.confidence for k in keys if k and k.confidence is not None]
    return {"accuracy": float((scores == 1.0).mean()), "mirex_weighted": float(scores.mean()),
            "fifth_relative_parallel_errors": int(((scores > 0) & (scores < 1)).sum()),
            "runner_up_is_truth": int(runner), "mean_confidence": float(np.mean(conf)) if conf else None,
            "scores": scores}


def published_chord_scores() -> dict | None:
    """The crema authors' own test scores (means over their 244 test tracks), as the converter copied them."""
    card = Path(__file__).resolve().parent.parent / "assets" / "models" / "chords" / "crema" / "card.json"
    if not card.exists():
        return None
    pub = json.loads(card.read_text())["published_test_scores"]
    return {"tracks": pub["tracks"], "majmin": pub["metrics"]["majmin"]["mean"],
            "root": pub["metrics"]["root"]["mean"], "source": pub["source"]}


def evaluate(n: int = 60, sr: int = 22_050, chord_weight: float = CHORD_PROFILE_WEIGHT,
             final_bonus: float = FINAL_CHORD_BONUS) -> dict:
    """Render each chorale (FluidSynth, the default SoundFont) and score against the notated key with MIREX's
    weighted score (fifth 0.5, relative 0.3, parallel 0.2): the key from the analysis tab's chroma alone (the
    top-level figures), from chroma + crema's chords (``with_chords``) and from chroma + the score's own harmony
    (``with_truth_chords``); and chord accuracy (``chords``) of crema and the chroma-template
    baseline against the chordified score, beside the crema authors' published figures."""
    from core.render import default_soundfont

    items = chorale_items(n)
    pieces = [_analyse(name, score, sr) for name, _, score in items]
    truths = [truth for _, truth, _ in items]
    chroma_keys = [_key_from(p, None, 0, 0) for p in pieces]
    chord_keys = [_key_from(p, "crema", chord_weight, final_bonus) for p in pieces]
    oracle_keys = [_key_from(p, "truth", chord_weight, final_bonus) for p in pieces]
    today, with_chords, oracle = (_key_summary(truths, k) for k in (chroma_keys, chord_keys, oracle_keys))
    rows = [{"piece": name, "truth": truth, "estimate": k.name if k else "C major",
             "runner_up": k.runner_up if k else None, "margin": k.margin if k else None, "score": float(sc),
             "with_chords": kc.name if kc else None, "with_chords_confidence": kc.confidence if kc else None,
             "with_chords_score": float(scc),
             "chords_crema": p["chords"]["crema"], "chords_template": p["chords"]["template"]}
            for (name, truth, _), k, sc, kc, scc, p in zip(items, chroma_keys, today["scores"], chord_keys,
                                                           with_chords["scores"], pieces)]
    chord_means = {m: {k: float(np.mean([p["chords"][m][k] for p in pieces])) for k in ("majmin", "root")}
                   for m in ("crema", "crema_argmax", "template")}
    strip = lambda d: {k: v for k, v in d.items() if k != "scores"}  # noqa: E731
    return {"pieces": len(rows), "soundfont": Path(default_soundfont() or "sine").stem,
            "data": "Bach chorales from music21's corpus, notated key as truth, rendered here with FluidSynth "
                    "(not real recordings)",
            **strip(today),
            "with_chords": {**strip(with_chords), "chord_weight": chord_weight, "final_chord_bonus": final_bonus,
                            "chords": "crema (core.chords.crema)"},
            "with_truth_chords": {**strip(oracle), "chords": "the chordified score's own harmony instead of crema's "
                                                             "(weights as tuned for crema)"},
            "chords": {"truth": "music21 chordify(), the sonority at each quarter-note beat, root + triad quality; "
                                "mean over pieces of mir_eval majmin / root (dim, aug and other sonorities skipped "
                                "by majmin; the root scores them)",
                       "crema": chord_means["crema"], "crema_argmax": chord_means["crema_argmax"],
                       "template": chord_means["template"],
                       "published_crema": published_chord_scores()},
            "command": f"python -m core.key --evaluate {n} --write", "rows": rows}


#: the grid --tune searches
CHORD_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
FINAL_BONUSES = (0.0, 0.1, 0.2, 0.3, 0.5)


def tune(n: int = 60, skip: int = 60, sr: int = 22_050) -> list[dict]:
    """MIREX weighted key score of chroma + crema chords on chorales skip..skip+n-1 for each (chord weight,
    final-chord bonus) of the grid, best first: how CHORD_PROFILE_WEIGHT and FINAL_CHORD_BONUS were chosen."""
    items = chorale_items(n, skip=skip)
    pieces = [_analyse(name, score, sr) for name, _, score in items]
    truths = [truth for _, truth, _ in items]
    out = [{"chord_weight": w, "final_bonus": b,
            **{k: v for k, v in _key_summary(truths, [_key_from(p, "crema", w, b) for p in pieces]).items()
               if k in ("accuracy", "mirex_weighted")}}
           for w in CHORD_WEIGHTS for b in FINAL_BONUSES]
    return sorted(out, key=lambda r: (-r["mirex_weighted"], -r["accuracy"], r["chord_weight"], r["final_bonus"]))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="Measure the key estimate on rendered Bach chorales.")
    ap.add_argument("--evaluate", type=int, default=60, metavar="N", help="how many chorales")
    ap.add_argument("--tune", type=int, default=0, metavar="N",
                    help="instead: grid-search the chord weights on N chorales after the evaluated ones")
    ap.add_argument("--write", action="store_true", help=f"write {FIGURE.name}")
    args = ap.parse_args(argv)
    if args.tune:
        result = tune(args.tune, skip=args.evaluate)
        chroma_only = [r for r in result if r["chord_weight"] == 0 and r["final_bonus"] == 0]
        print(json.dumps({"best": result[:5], "chroma_only": chroma_only}, indent=1))
        return {"tune": result}
    result = evaluate(args.evaluate)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.write:
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
