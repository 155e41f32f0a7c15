"""Musical key from chroma: the Krumhansl–Kessler key profiles, correlated with the recording's mean chroma.

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


@dataclass(frozen=True)
class Key:
    tonic: str
    mode: str  # "major" or "minor"
    correlation: float  # Pearson r of the mean chroma with the key's profile
    runner_up: str  # the next best key
    margin: float  # r(best) - r(runner up): near 0 means the two are hard to tell apart

    @property
    def name(self) -> str:
        return f"{self.tonic} {self.mode}"

    def describe(self) -> str:
        return f"{self.name} (r = {self.correlation:.2f}; next {self.runner_up}, {self.margin:+.2f})"


def estimate(chroma: np.ndarray) -> Key | None:
    """The best-matching of the 24 major and minor keys for chroma (12, frames); None for no pitch content."""
    profile = np.asarray(chroma, dtype=float).mean(axis=1)
    if not np.isfinite(profile).all() or np.ptp(profile) <= 1e-9:
        return None
    scores = []
    for mode, template in (("major", MAJOR), ("minor", MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(profile, np.roll(template, tonic))[0, 1])
            scores.append((r, PITCH_CLASSES[tonic], mode))
    scores.sort(reverse=True)
    (r1, tonic, mode), (r2, t2, m2) = scores[0], scores[1]
    return Key(tonic, mode, round(r1, 3), f"{t2} {m2}", round(r1 - r2, 3))


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


def chorale_items(n: int = 60) -> list[tuple[str, str, object]]:
    """(name, notated key, score) for the first ``n`` Bach chorales of music21's corpus (the key in the file)."""
    from music21 import corpus
    from music21 import key as m21key

    out = []
    for path in sorted(corpus.getComposer("bach"), key=lambda p: p.name)[: n * 2]:
        score = corpus.parse(path)
        keys = list(score.recurse().getElementsByClass(m21key.Key))
        if keys and keys[0].mode in ("major", "minor"):
            tonic = keys[0].tonic.name
            out.append((path.name, f"{_M21.get(tonic, tonic)} {keys[0].mode}", score))
        if len(out) == n:
            break
    return out


def evaluate(n: int = 60, sr: int = 22_050) -> dict:
    """Render each chorale (FluidSynth, the default SoundFont), estimate its key from the analysis tab's chroma,
    and score against the notated key with MIREX's weighted score (fifth 0.5, relative 0.3, parallel 0.2)."""
    import mir_eval
    import pretty_midi

    from core import features
    from core.render import default_soundfont, render_midi

    rows = []
    for name, truth, score in chorale_items(n):
        midi = Path("/tmp") / f"key_eval_{name}.mid"
        score.write("midi", fp=str(midi))
        audio = render_midi(pretty_midi.PrettyMIDI(str(midi)), sr=sr).audio
        midi.unlink(missing_ok=True)
        est = estimate(features.chroma(audio, sr))
        guess = est.name if est else "C major"
        rows.append({"piece": name, "truth": truth, "estimate": guess, "runner_up": est.runner_up if est else None,
                     "margin": est.margin if est else None,
                     "score": float(mir_eval.key.weighted_score(truth, guess))})
    scores = np.array([r["score"] for r in rows])
    runner = np.array([r["runner_up"] == r["truth"] for r in rows])
    return {"pieces": len(rows), "soundfont": Path(default_soundfont() or "sine").stem,
            "data": "Bach chorales from music21's corpus, notated key as truth, rendered here with FluidSynth "
                    "(not real recordings)",
            "accuracy": float((scores == 1.0).mean()), "mirex_weighted": float(scores.mean()),
            "fifth_relative_parallel_errors": int(((scores > 0) & (scores < 1)).sum()),
            "runner_up_is_truth": int(runner.sum()),
            "command": f"python -m core.key --evaluate {n} --write", "rows": rows}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="Measure the key estimate on rendered Bach chorales.")
    ap.add_argument("--evaluate", type=int, default=60, metavar="N", help="how many chorales")
    ap.add_argument("--write", action="store_true", help=f"write {FIGURE.name}")
    args = ap.parse_args(argv)
    result = evaluate(args.evaluate)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.write:
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
