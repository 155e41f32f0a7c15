"""Choose the full-mix notice's threshold on real recordings: the lowest that no real solo recording crosses;
and the threshold above which an instrument counts as heard in a full mix.

    python -m core.classify.mixes --real .cache/real --write     # docs/figures/mix_threshold.json
    python -m core.classify.mixes --instruments .cache/genre --write   # docs/figures/mix_instruments.json

The notice tells a user that the instrument classifier, which knows solo instruments, is hearing a band or a
beat. Solo recordings (every instrument record of the real dev set, single notes and phrases) must not raise
it; full mixes (the genre tracks) should. The score is ``TagPrediction.mix_score``: the strongest rhythm-section
tag of the MTT tagger, averaged over the recording.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from core.backbones import tagging
from core.backbones.embed import embed_file
from core.data.real import load_manifest
from core.instruments.api import mapped_tag_scores, mix_labels

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "mix_threshold.json"
HEARD_FIGURE = FIGURE.with_name("mix_instruments.json")
GRID = np.round(np.arange(0.05, 0.95, 0.01), 2)
#: General MIDI programs of the rendered mixes that are one of the instrument classes
GM_CLASSES = {"Acoustic Grand Piano": "piano", "Bright Acoustic Piano": "piano",
              "Distortion Guitar": "distorted electric guitar", "Overdriven Guitar": "distorted electric guitar",
              "Violin": "violin", "Flute": "flute", "Clarinet": "clarinet", "Trumpet": "trumpet",
              "Tenor Sax": "tenor saxophone"}


def scores(records: list[dict]) -> list[float]:
    return [tagging.from_embeddings(embed_file(r["abs_path"]), r["duration_s"]).mix_score() for r in records]


def choose(solo: list[float], mixes: list[float]) -> dict:
    """The lowest grid threshold above every solo score, and what it catches."""
    threshold = float(next(t for t in GRID if all(s < t for s in solo)))
    return {"threshold": threshold, "tags": list(tagging.MIX_TAGS),
            "solo": {"n": len(solo), "flagged": int(sum(s >= threshold for s in solo)),
                     "max_score": round(max(solo), 3)},
            "mixes": {"n": len(mixes), "flagged": int(sum(m >= threshold for m in mixes))}}


def mix_items(root) -> list[tuple[Path, set[str]]]:
    """The rendered genre corpus (``core.genre.corpus``) as mixes with known instruments: (file, classes in it)."""
    out = []
    for part in ("corpus", "heldout_font"):
        meta = Path(root) / part / "pieces.json"
        if not meta.exists():
            continue
        for piece in json.loads(meta.read_text()):
            for f in sorted((meta.parent / piece["genre"]).glob(f"{piece['genre']}_{piece['seed']:04d}__*.flac")):
                out.append((f, {GM_CLASSES[i] for i in piece["instruments"] if i in GM_CLASSES}))
    return out


def heard_scores(paths) -> np.ndarray:
    """(recordings, classes) each instrument class's best mapped tag, averaged over the recording."""
    return np.stack([mapped_tag_scores(tagging.from_embeddings(embed_file(p), 0.0)) for p in paths])


def choose_heard(S: np.ndarray, truth: list[set[str]], labels: list[str], mapped: list[str]) -> dict:
    """The grid threshold with the best micro-F1 over the classes a tag speaks for, and per class what it gives."""
    cols = [labels.index(c) for c in mapped]
    Y = np.array([[c in t for c in mapped] for t in truth])

    def f1(pred):
        tp, fp, fn = (pred & Y).sum(), (pred & ~Y).sum(), (~pred & Y).sum()
        return 2 * tp / max(2 * tp + fp + fn, 1)

    best = max(GRID, key=lambda t: (f1(S[:, cols] >= t), -t))
    pred = S[:, cols] >= best
    per = {}
    for j, c in enumerate(mapped):
        tp, fp, fn = (int((pred[:, j] & Y[:, j]).sum()), int((pred[:, j] & ~Y[:, j]).sum()),
                      int((~pred[:, j] & Y[:, j]).sum()))
        per[c] = {"n_in": int(Y[:, j].sum()), "precision": tp / max(tp + fp, 1) if tp + fp else None,
                  "recall": tp / max(tp + fn, 1) if tp + fn else None}
    return {"threshold": float(best), "micro_f1": float(f1(pred)), "n_mixes": len(truth), "per_class": per}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default=".cache/real", help="the real dev set built by python -m core.data.real")
    ap.add_argument("--instruments", help="a genre corpus folder (python -m core.genre.corpus): choose the "
                    "threshold for the instruments heard in a mix")
    ap.add_argument("--write", action="store_true", help=f"write {FIGURE.name} (or {HEARD_FIGURE.name})")
    args = ap.parse_args(argv)
    if args.instruments:
        labels, mapped = mix_labels()
        items = mix_items(args.instruments)
        result = {**choose_heard(heard_scores([p for p, _ in items]), [t for _, t in items], labels, mapped),
                  "command": f"python -m core.classify.mixes --instruments {args.instruments} --write",
                  "data": "rendered mixes of the genre corpus (SoundFonts; their General MIDI programs give the "
                          "instruments in each): no real full mix with labelled instruments is available here",
                  "unmapped": [c for c in labels if c not in mapped]}
        print(json.dumps(result, indent=1))
        if args.write:
            HEARD_FIGURE.write_text(json.dumps(result, indent=1) + "\n")
        return result
    records = load_manifest(args.real)
    solo = scores([r for r in records if r["task"] == "instruments"])
    mixes = scores([r for r in records if r["task"] == "genre"])
    result = {**choose(solo, mixes), "command": "python -m core.classify.mixes --real .cache/real --write",
              "data": "the real dev set (docs/real_dev_set.md): instrument records as solos, genre tracks as mixes"}
    print(json.dumps(result, indent=1))
    if args.write:
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
