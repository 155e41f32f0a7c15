"""Recall within patience with a simulated user: the paper's Figures 1–2 as a table.

For every repeated sound of every track (``core.search.dataset``), the first
occurrence is the query (rounded to 0.1 s, the annotators' precision); a
simulated user answers yes when a proposal overlaps a not-yet-found occurrence by
at least half of d. Recall = occurrences found / other occurrences, averaged per
sound, for three systems:

    naive      nearest neighbour of the query in MFCC space, answers only exclude windows
    mfcc       Algorithm 1 (feedback) in MFCC space
    learned    Algorithm 1 in the learned encoder's space

and, as ablations (``--systems``): ``naive-learned`` (no feedback, learned space),
``mel`` (the encoder's input, whitened log-mel, no learning) and ``random-encoder``
(the same network with random weights: what the training adds).

    python -m core.search.evaluate --data .cache/search/eval --out docs/figures/search_eval.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from core.search import dataset
from core.search.api import PATIENCE, SearchSession, prepare

SYSTEMS = {"naive": ("mfcc", False), "mfcc": ("mfcc", True), "learned": ("learned", True),
           "naive-learned": ("learned", False), "mel": ("mel", True), "random-encoder": ("random", True),
           "musicnn": ("musicnn", True)}
MAIN = ("naive", "mfcc", "learned")


def random_encoder(seed: int = 0):
    from core.search.models import Encoder, EncoderConfig

    torch.manual_seed(seed)
    return Encoder(EncoderConfig()).eval()


def overlap(a: float, b: float, d: float) -> float:
    """Length of the overlap of [a, a + d) and [b, b + d)."""
    return max(0.0, min(a, b) + d - max(a, b))


def simulated_user(truth: list[float], d: float):
    """An answer function: yes when ``t`` overlaps a not-yet-found true start by ≥ 50 % of d."""
    found: set[int] = set()

    def answer(t: float) -> bool:
        for i, s in enumerate(truth):
            if i not in found and overlap(t, s, d) >= 0.5 * d:
                found.add(i)
                return True
        return False

    answer.found = found
    return answer


def retrieve(track, t0: float, d: float, truth: list[float], patience: int = PATIENCE, learn: bool = True,
             kind: str = "sample", blocks: int | None = None) -> float:
    """Run Algorithm 1 against a simulated user; recall of the ``truth`` starts (the query excluded)."""
    s = SearchSession(track, t0, d, patience=patience, kind=kind, blocks=blocks, learn=learn)
    user = simulated_user(truth, d)
    while (t := s.propose()) is not None:
        s.feedback(t, user(t))
    return len(user.found) / len(truth)


def evaluate(paths, systems=MAIN, patience: int = PATIENCE, blocks: int | None = None, encoder=None,
             progress=None) -> dict:
    """Recall per system, kind and genre over the tracks at ``paths`` (FLAC + JSON from ``dataset.build``).

    ``encoder`` replaces the bundled one in the learned space (e.g. one trained on other data).
    """
    recalls: dict = defaultdict(list)  # (system, kind, genre) -> recalls
    for k, path in enumerate(paths):
        t = dataset.load(path)
        prepared = {}
        for system in systems:
            space, learn = SYSTEMS[system]
            if space not in prepared:
                if space == "random":
                    prepared[space] = prepare(t.y, t.sr, "learned", encoder=random_encoder())
                else:
                    prepared[space] = prepare(t.y, t.sr, space, encoder=encoder if space == "learned" else None)
            for target in t.targets:
                if len(target.starts) < 2:
                    continue
                t0, d = round(target.starts[0], 1), round(target.duration, 1)  # annotated to 0.1 s
                r = retrieve(prepared[space], t0, max(d, 0.1), target.starts[1:], patience, learn, target.kind, blocks)
                recalls[(system, target.kind, t.genre)].append(r)
        if progress:
            progress((k + 1) / len(paths), f"{Path(path).name}: " + ", ".join(
                f"{s}={np.mean([r for (sy, _, _), v in recalls.items() if sy == s for r in v]):.3f}" for s in systems))
    table = {}
    for system in systems:
        for kind in ("sample", "loop"):
            row = {g: float(np.mean(recalls[(system, kind, g)])) for g in dataset.GENRES if recalls[(system, kind, g)]}
            allr = [r for g in dataset.GENRES for r in recalls[(system, kind, g)]]
            row["all"] = float(np.mean(allr)) if allr else float("nan")
            row["n"] = len(allr)
            table[f"{system}/{kind}"] = row
    table["per_sound"] = {f"{sy}/{k}": [r for g in dataset.GENRES for r in recalls[(sy, k, g)]]
                          for sy in systems for k in ("sample", "loop")}
    return table


def paired_difference(a: list[float], b: list[float], resamples: int = 10_000, seed: int = 0) -> dict:
    """Mean of a − b over the same sounds, with a 95 % bootstrap interval (sounds resampled)."""
    diff = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"mean": round(float(diff.mean()), 3), "ci95": [round(float(lo), 3), round(float(hi), 3)], "n": len(diff)}


def comparisons(table: dict, pairs=(("mfcc", "naive"), ("learned", "naive"), ("learned", "mfcc"), ("mel", "mfcc"),
                                    ("mel", "learned"))) -> dict:
    """Paired differences of recall between systems (first minus second), per kind."""
    per = table["per_sound"]
    return {f"{a} - {b} / {k}": paired_difference(per[f"{a}/{k}"], per[f"{b}/{k}"])
            for a, b in pairs for k in ("sample", "loop") if f"{a}/{k}" in per and f"{b}/{k}" in per}


def markdown(table: dict) -> str:
    """The table as Markdown: one row per system and kind, one column per genre."""
    cols = list(dataset.GENRES) + ["all"]
    lines = ["| system | kind | " + " | ".join(c.replace("_", " ") for c in cols) + " | sounds |",
             "|---|---|" + "---:|" * (len(cols) + 1)]
    for key, row in table.items():
        if key == "per_sound":
            continue
        system, kind = key.split("/")
        lines.append(f"| {system} | {kind} | " + " | ".join(f"{row.get(c, float('nan')):.3f}" for c in cols)
                     + f" | {row['n']} |")
    return "\n".join(lines)


#: card key per system: what ``spaces.measured_recall`` reads for the search tab
CARD_KEYS = {"learned": "eval_recall_within_patience_5", "mfcc": "eval_recall_mfcc", "naive": "eval_recall_naive",
             "mel": "eval_recall_log_mel"}


def write_card(table: dict, tracks: int, data: str, command: str, directory=None) -> dict:
    """Merge each system's (sample, loop) recall into the encoder's card, keeping every other key."""
    from core.search.spaces import DEFAULT_MODEL, MODEL_DIR
    from core.training import update_card

    metrics = {key: {kind: round(table[f"{system}/{kind}"]["all"], 3) for kind in ("sample", "loop")}
               for system, key in CARD_KEYS.items() if f"{system}/sample" in table and f"{system}/loop" in table}
    n = {kind: table[f"{next(iter(CARD_KEYS))}/{kind}"]["n"] for kind in ("sample", "loop")
         if f"{next(iter(CARD_KEYS))}/{kind}" in table}
    described = (f"{tracks} generated tracks ({data})"
                 + (f": {n['sample']} samples, {n['loop']} loops" if len(n) == 2 else ""))
    return update_card(directory or MODEL_DIR / DEFAULT_MODEL, metrics, command, data=described)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".cache/search/eval")
    parser.add_argument("--systems", nargs="*", default=list(MAIN), choices=list(SYSTEMS))
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--blocks", type=int, default=None, help="override the per-kind block count")
    parser.add_argument("--limit", type=int, default=None, help="first N tracks only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--encoder", default=None, help="a trained encoder's folder instead of the bundled one")
    parser.add_argument("--out", default=None, help="write the table as JSON here")
    parser.add_argument("--write-card", action="store_true",
                        help="merge the recalls into the bundled encoder's card (what the search tab shows)")
    parser.add_argument("--data-note", default=None,
                        help="how --data was made, for the card (e.g. its dataset command)")
    parser.add_argument("--from-json", default=None,
                        help="do not measure: take the table from a JSON an earlier --out wrote (with --write-card)")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        if args.write_card:
            write_card(saved["table"], saved["tracks"], args.data_note or saved["data"],
                       f"python -m core.search.evaluate --data {saved['data']}"
                       f" --systems {' '.join(sorted({k.split('/')[0] for k in saved['table'] if '/' in k}))}"
                       f" --out {args.from_json}")
        print(markdown(saved["table"]))
        return
    import torch

    torch.set_num_threads(args.threads)
    paths = sorted(Path(args.data).glob("*.flac"))[: args.limit]
    if not paths:
        raise SystemExit(f"No tracks in {args.data}: run python -m core.search.dataset --out {args.data} first.")
    start = time.time()
    encoder = None
    if args.encoder:
        from core.search.spaces import load

        encoder = load(Path(args.encoder))
    table = evaluate(paths, args.systems, args.patience, args.blocks, encoder,
                     progress=lambda f, m: print(m, flush=True))
    print(markdown(table))
    diffs = comparisons(table)
    for name, c in diffs.items():
        print(f"{name}: {c['mean']:+.3f} (95 % CI {c['ci95'][0]:+.3f} to {c['ci95'][1]:+.3f}, {c['n']} sounds)")
    print(f"{len(paths)} tracks, {time.time() - start:.0f} s")
    if args.write_card:
        write_card(table, len(paths), args.data_note or args.data,
                   "python -m core.search.evaluate " + " ".join(argv or sys.argv[1:]))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"tracks": len(paths), "data": args.data, "patience": args.patience,
                                              "blocks": args.blocks, "encoder": args.encoder or "bundled",
                                              "table": table, "paired": diffs}, indent=1))


if __name__ == "__main__":
    main()
