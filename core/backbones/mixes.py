"""Choose the full-mix notice's threshold on real recordings: the lowest that no real solo recording crosses.

    python -m core.backbones.mixes --real .cache/real --write     # docs/figures/mix_threshold.json

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
from core.backbones.heads import embed_file

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "mix_threshold.json"
GRID = np.round(np.arange(0.05, 0.95, 0.01), 2)


def scores(records: list[dict]) -> list[float]:
    return [tagging.from_embeddings(embed_file(r["abs_path"]), r["duration_s"]).mix_score() for r in records]


def choose(solo: list[float], mixes: list[float]) -> dict:
    """The lowest grid threshold above every solo score, and what it catches."""
    threshold = float(next(t for t in GRID if all(s < t for s in solo)))
    return {"threshold": threshold, "tags": list(tagging.MIX_TAGS),
            "solo": {"n": len(solo), "flagged": int(sum(s >= threshold for s in solo)), "max_score": round(max(solo), 3)},
            "mixes": {"n": len(mixes), "flagged": int(sum(m >= threshold for m in mixes))}}


def main(argv=None) -> dict:
    from core.data.real import load_manifest

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default=".cache/real", help="the real dev set built by python -m core.data.real")
    ap.add_argument("--write", action="store_true", help=f"write {FIGURE.name}")
    args = ap.parse_args(argv)
    records = load_manifest(args.real)
    solo = scores([r for r in records if r["task"] == "instruments"])
    mixes = scores([r for r in records if r["task"] == "genre"])
    result = {**choose(solo, mixes), "command": "python -m core.backbones.mixes --real .cache/real --write",
              "data": "the real dev set (docs/real_dev_set.md): instrument records as solos, genre tracks as mixes"}
    print(json.dumps(result, indent=1))
    if args.write:
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
