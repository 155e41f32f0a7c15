"""Measure the backbone heads on real recordings first, then on held-out generated data; choose the recipe.

    python -m core.classify.evaluate --task genre --generated .cache/genre/corpus --real .cache/real \
        --write-card assets/models/genre/musicnn

Every figure is per recording (the mean of its 3 s patches' probabilities, then the top class):

- **real dev** (the labelled Debian recordings, ``core.data.real``): heads that see real data are
  scored by grouped cross-validation — a package (one game's or library's recordings) is never on
  both sides — so each real recording is predicted by a head that never heard its source;
- baselines on the same recordings: the taggers' tags mapped onto the classes with no training
  (``tasks.zero_shot``), the paper networks bundled today, a head trained on generated data alone,
  and the same with each realism augmentation (``core.data.realism``);
- **held-out generated**: pieces of the rendered corpus no head trained on.

Writes ``docs/figures/<task>_backbone_eval.json`` (the table the README and cards are built from) and,
with ``--write-card DIR``, merges the chosen recipe's metrics into that model's card.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from core.audio import AudioError
from core.backbones import musicnn, tagging
from core.backbones.embed import embed_file
from core.classify.data import Item, generated_items, real_items
from core.classify.tasks import GENRE, TASKS, Task, zero_shot_scores
from core.classify.train import Recipe, fit, gather, item_rows, split_generated
from core.genre import api as genre_api
from core.instruments import api as inst_api
from core.training import update_card

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "figures"
MIN_REAL = 5  # a class needs this many real recordings to be measured


def per_item(P: np.ndarray, item_of: np.ndarray, n_items: int) -> np.ndarray:
    """(rows, classes) patch probabilities → (items, classes) mean per recording."""
    out = np.zeros((n_items, P.shape[1]), np.float32)
    np.add.at(out, item_of, P)
    counts = np.bincount(item_of, minlength=n_items)[:, None]
    return out / np.maximum(counts, 1)


def score(task: Task, items: list[Item], pred: list[str]) -> dict:
    """Per-class recall with n, overall accuracy, and macro accuracy over the classes with ≥ MIN_REAL items."""
    per = {}
    for c in task.labels:
        idx = [i for i, it in enumerate(items) if it.label == c]
        if idx:
            called = {}
            for i in idx:
                called[pred[i] or "(refused)"] = called.get(pred[i] or "(refused)", 0) + 1
            per[c] = {"n": len(idx), "correct": sum(pred[i] == c for i in idx),
                      "recall": sum(pred[i] == c for i in idx) / len(idx),
                      "predicted": dict(sorted(called.items(), key=lambda kv: -kv[1]))}
    measurable = [c for c, v in per.items() if v["n"] >= MIN_REAL]
    return {"per_class": per,
            "accuracy": float(np.mean([p == it.label for p, it in zip(pred, items)])) if items else None,
            "macro_accuracy": float(np.mean([per[c]["recall"] for c in measurable])) if measurable else None,
            "measured_classes": measurable, "n": len(items)}


def head_predict(head, rows, n_items) -> list[str]:
    X, item_of = rows
    P = per_item(head.predict_proba(X), item_of, n_items)
    return [head.labels[int(i)] for i in P.argmax(1)]


def cv_real(task: Task, gen: list[Item], real: list[Item], recipe: Recipe, gen_rows, real_rows, folds: int = 5,
            by: str = "group") -> list[str]:
    """Predict every real item with a head trained on the generated rows + the real items of other folds.

    ``by="group"``: folds never split a source (package/artist) — a new source; ``by="file"``: folds split
    recordings only — new recordings of sources the head has heard (optimistic where a class has one source).
    """
    from sklearn.model_selection import GroupKFold

    Xg, gof = gen_rows
    Xr, rof = real_rows
    groups = np.array([it.group if by == "group" else str(it.path) for it in real])
    pred = [""] * len(real)
    n = min(folds, len(set(groups)))
    for train_idx, test_idx in GroupKFold(n_splits=n).split(real, groups=groups):
        train_idx = set(train_idx.tolist())
        mask = np.array([k in train_idx for k in rof])
        items = gen + [real[k] for k in sorted(train_idx)]
        remap = {k: len(gen) + j for j, k in enumerate(sorted(train_idx))}
        X = np.concatenate([Xg, Xr[mask]])
        item_of = np.concatenate([gof, np.array([remap[k] for k in rof[mask]], dtype=int)])
        head, _ = fit(task, items, recipe, (X, item_of))
        test = sorted(test_idx.tolist())
        tmask = np.isin(rof, test)
        tremap = {k: j for j, k in enumerate(test)}
        P = per_item(head.predict_proba(Xr[tmask]), np.array([tremap[k] for k in rof[tmask]]), len(test))
        for j, k in enumerate(test):
            pred[k] = task.labels[int(P[j].argmax())]
    return pred


def zero_shot_predict(task: Task, items: list[Item]) -> list[str]:
    mtt, msd = musicnn.load("mtt").labels, musicnn.load("msd").labels
    out = []
    for it in items:
        e = embed_file(it.path)
        s = zero_shot_scores(task, e["mtt"].tags, e["msd"].tags, mtt, msd).mean(0)
        out.append(task.labels[int(s.argmax())])
    return out


def paper_networks_predict(task: Task, items: list[Item]) -> dict[str, list[str]]:
    """The networks bundled before the backbone (genre: Dense/RNN/CNN/CRNN/AST; instruments: CNN/AST) on ``items``;
    a recording a network refuses counts as wrong ("")."""
    if task.name == "genre":
        names = [n for n in genre_api.bundled_models() if n not in ("prior", "tags", "musicnn")]
        top = lambda path, name: genre_api.predict_file(path, name, max_seconds=120).top  # noqa: E731
    else:
        names = list(inst_api.PAPER_MODELS)
        top = lambda path, name: inst_api.predict_file(path, name, max_seconds=120).ranking()[0][0]  # noqa: E731
    out = {}
    for name in names:
        preds = []
        for it in items:
            try:
                preds.append(top(str(it.path), name))
            except AudioError:
                preds.append("")
        out[name] = preds
    return out


def full_mix_rates(groups: dict[str, list[Item]]) -> dict:
    """How often the full-mix notice fires (``tagging.MIX_THRESHOLD``) on each named set of recordings."""
    out = {"threshold": tagging.MIX_THRESHOLD}
    for name, items in groups.items():
        flags = []
        for it in items:
            e = embed_file(it.path)
            flags.append(tagging.from_embeddings(e, 0.0).is_full_mix)
        out[name] = {"n": len(items), "flagged": int(sum(flags)), "rate": float(np.mean(flags)) if flags else None}
    return out


def log(*parts) -> None:
    """One line of the evaluation's account (the logging module, not a callback: progress has one shape)."""
    logging.getLogger("core.classify.evaluate").info(" ".join(str(p) for p in parts))


def run(task: Task, generated, real, augments=("room", "mic", "master", "noise", "codec", "band", "all"),
        recipes: list[Recipe] | None = None, paper: bool = True, mixes=None) -> dict:
    gen, rea = gather(task, generated, real)
    gen_train, gen_test = split_generated(gen)
    base = Recipe()
    log(f"{task.name}: {len(gen_train)} generated train, {len(gen_test)} generated test, {len(rea)} real")
    gen_rows, real_rows = item_rows(gen_train, base), item_rows(rea, base)
    result = {"task": task.name, "min_real_per_class": MIN_REAL, "n_generated_train": len(gen_train),
              "n_generated_test": len(gen_test), "n_real": len(rea),
              "real_groups": sorted({it.group for it in rea}), "real_dev": {}, "augmentation_generated_only": {}}

    result["real_dev"]["zero-shot tags"] = score(task, rea, zero_shot_predict(task, rea))
    log("zero-shot", result["real_dev"]["zero-shot tags"]["macro_accuracy"])
    if paper:
        for name, preds in paper_networks_predict(task, rea).items():
            result["real_dev"][f"paper {name}"] = score(task, rea, preds)
            log(name, result["real_dev"][f"paper {name}"]["macro_accuracy"])

    # the generated corpus alone, clean and with each realism augmentation: what each one changes on real music
    for aug in ("",) + tuple(augments):
        r = replace(base, augment=aug)
        rows = gen_rows if not aug else item_rows(gen_train, r)
        head, _ = fit(task, gen_train, r, rows)
        s = score(task, rea, head_predict(head, real_rows, len(rea)))
        result["augmentation_generated_only"][aug or "none"] = s
        log("generated only, augment", aug or "none", s["macro_accuracy"])

    # heads that also learn from real recordings: grouped cross-validation on the real set
    best_aug = max(result["augmentation_generated_only"],
                   key=lambda a: result["augmentation_generated_only"][a]["macro_accuracy"] or 0)
    best_aug = "" if best_aug == "none" else best_aug
    recipes = recipes or [
        replace(base, real_weight=0.0, augment=best_aug),
        replace(base),
        replace(base, augment=best_aug),
        replace(base, feature="penultimate"),
        replace(base, feature="pooled"),
        replace(base, hidden=128),
        replace(base, real_weight=20.0),
        replace(base, backbones=("mtt",), feature="penultimate+tags"),
    ]
    cv = []
    for r in recipes:
        grow = (gen_rows if (not r.augment and r.feature == base.feature and r.backbones == base.backbones)
                else item_rows(gen_train, r))
        rrow = real_rows if (r.feature == base.feature and r.backbones == base.backbones) else item_rows(rea, r)
        s = score(task, rea, cv_real(task, gen_train, rea, r, grow, rrow))
        cv.append({"recipe": asdict(r), **s})
        log("cv", asdict(r), s["macro_accuracy"])
    result["real_dev_cv"] = cv
    best = max(cv, key=lambda c: (c["macro_accuracy"] or 0, c["accuracy"] or 0))
    chosen = Recipe(**{**best["recipe"], "backbones": tuple(best["recipe"]["backbones"])})
    result["chosen_recipe"] = asdict(chosen)
    result["real_dev"]["musicnn head (chosen, grouped CV)"] = {k: v for k, v in best.items() if k != "recipe"}
    chosen_rows = (item_rows(gen_train, chosen), item_rows(rea, chosen))
    result["real_dev_by_file"] = score(task, rea, cv_real(task, gen_train, rea, chosen, *chosen_rows, by="file"))
    log("cv by file", result["real_dev_by_file"]["macro_accuracy"])

    # held-out generated data with the chosen recipe, trained as the bundled model is (generated train + all real)
    items = gen_train + rea
    rows_tr = item_rows(items, chosen)
    head, _ = fit(task, items, chosen, rows_tr)
    test_rows = item_rows(gen_test, chosen, augment_generated=False)
    result["generated_heldout"] = {"musicnn head (chosen)": score(task, gen_test,
                                                                  head_predict(head, test_rows, len(gen_test)))}
    if paper:
        for name, preds in paper_networks_predict(task, gen_test).items():
            result["generated_heldout"][f"paper {name}"] = score(task, gen_test, preds)
    if mixes:  # the instrument tab's full-mix notice: full mixes should trip it, solo recordings should not
        result["full_mix_notice"] = full_mix_rates({
            "generated full mixes": generated_items(GENRE, mixes), "real full mixes": real_items(GENRE, real),
            "generated solo (test)": gen_test, "real solo": rea})
        log("full-mix notice", result["full_mix_notice"])
    return result


def markdown(result: dict) -> str:
    """The side-by-side table for the README and the card: real dev per class (n), held-out generated, gap."""
    task = TASKS[result["task"]]
    real = result["real_dev"]
    gen = result.get("generated_heldout", {})
    first = next(iter(real.values()))
    measured, n_of = first["measured_classes"], first["per_class"]
    shown = measured + [c for c in task.labels if c in n_of and c not in measured]  # thin classes too, marked *
    head = ["model", "real dev macro acc. (measured classes)", "real dev acc. (all n)",
            *[f"{c} (n={n_of[c]['n']}){'' if c in measured else ' *'}" for c in shown], "held-out generated acc.",
            "gap"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, s in real.items():
        g = gen.get(name) or gen.get(name.replace(" (chosen, grouped CV)", " (chosen)"))
        ga = g["accuracy"] if g else None
        row = [name, f"{s['macro_accuracy']:.2f}" if s["macro_accuracy"] is not None else "—", f"{s['accuracy']:.2f}",
               *[f"{s['per_class'][c]['correct']}/{s['per_class'][c]['n']}" for c in shown],
               f"{ga:.2f}" if ga is not None else "—",
               f"{ga - s['macro_accuracy']:+.2f}" if ga is not None and s["macro_accuracy"] is not None else "—"]
        lines.append("| " + " | ".join(row) + " |")
    too_few = [f"{c} ({n_of[c]['n'] if c in n_of else 0})" for c in task.labels if c not in measured]
    lines.append("")
    lines.append(f"\\* fewer than {result['min_real_per_class']} real recordings: shown, not averaged in. "
                 f"Classes with too little real data to measure: " + (", ".join(too_few) if too_few else "none") + ".")
    lines.append("")
    if result.get("real_dev_by_file"):
        f = result["real_dev_by_file"]
        lines.append("Chosen head, folds split by recording instead of by source (it has heard other recordings of the "
                     f"same package): macro accuracy {f['macro_accuracy']:.2f} ("
                     + ", ".join(f"{c} {f['per_class'][c]['correct']}/{f['per_class'][c]['n']}"
                                 for c in f["measured_classes"]) + ").")
        lines.append("")
    if result.get("full_mix_notice"):
        f = result["full_mix_notice"]
        lines.append(f"Full-mix notice (mix tags ≥ {f['threshold']}): " + ", ".join(
            f"{k} {v['flagged']}/{v['n']}" for k, v in f.items() if isinstance(v, dict)) + ".")
        lines.append("")
    lines.append("Generated corpus alone, by realism augmentation (real dev macro accuracy): "
                 + ", ".join(f"{a} {s['macro_accuracy']:.2f}" for a, s in result["augmentation_generated_only"].items()
                             if s["macro_accuracy"] is not None) + ".")
    return "\n".join(lines)


def write_card(result: dict, folder: Path, command: str) -> None:
    """Merge the measured metrics into ``folder/card.json``, keeping every other key."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / "card.json"
    card = json.loads(path.read_text()) if path.exists() else {}
    metrics = card.setdefault("metrics", {})
    chosen = result["real_dev"]["musicnn head (chosen, grouped CV)"]
    metrics["real_dev"] = {"macro_accuracy": chosen["macro_accuracy"], "accuracy": chosen["accuracy"],
                           "per_class": chosen["per_class"],
                           "protocol": "grouped cross-validation by package, per recording"}
    metrics["generated_heldout"] = result["generated_heldout"]["musicnn head (chosen)"]
    metrics["gap_generated_minus_real"] = ((metrics["generated_heldout"]["accuracy"] or 0)
                                           - (chosen["macro_accuracy"] or 0))
    metrics["baselines_real_dev"] = {k: {"macro_accuracy": v["macro_accuracy"], "accuracy": v["accuracy"]}
                                     for k, v in result["real_dev"].items() if k != "musicnn head (chosen, grouped CV)"}
    metrics["evaluate_command"] = command
    card["metrics_table"] = markdown(result)
    path.write_text(json.dumps(card, indent=2))


def write_mapping_card(result: dict) -> Path:
    """The "tags" model's card (``assets/models/<task>/tags``): its figures are the zero-shot row of the table."""
    s = result["real_dev"]["zero-shot tags"]
    folder = ROOT / "assets" / "models" / result["task"] / "tags"
    metrics = {"real_dev": {"macro_accuracy": s["macro_accuracy"], "accuracy": s["accuracy"],
                            "per_class": s["per_class"],
                            "protocol": "per recording on the real dev set (core.data.real); nothing was trained"}}
    update_card(folder, metrics, result.get("command", ""), data="none: no training (the mapping is config.json)",
                name=f"{result['task']}/tags", task=result["task"], metrics_table=markdown(result),
                architecture="zero-shot: each class scores its best mapped MTT/MSD tag (musicnn taggers)",
                notes=("The taggers' tags mapped onto the classes by hand (config.json); classes with no tag "
                       "(e.g. clarinet, trumpet, tenor saxophone) are never chosen."))
    return folder / "card.json"


def write_paper_cards(result: dict) -> list[Path]:
    """Add the real-dev figures of each paper network to its own card (``metrics.real_dev``), keeping every
    other key."""
    written = []
    for name, s in result["real_dev"].items():
        if not name.startswith("paper "):
            continue
        path = ROOT / "assets" / "models" / result["task"] / name[6:] / "card.json"
        if not path.exists():
            continue
        card = json.loads(path.read_text())
        gen = result.get("generated_heldout", {}).get(name, {})
        card.setdefault("metrics", {})["real_dev"] = {
            "macro_accuracy": s["macro_accuracy"], "accuracy": s["accuracy"], "per_class": s["per_class"],
            "generated_heldout_accuracy_same_split_as_head": gen.get("accuracy"),
            "protocol": "per recording on the real dev set (core.data.real); never trained on it",
            "command": result.get("command", "")}
        path.write_text(json.dumps(card, indent=2))
        written.append(path)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--generated")
    ap.add_argument("--real")
    ap.add_argument("--from-json", action="store_true",
                    help="do not measure: write the cards and tables from docs/figures/<task>_backbone_eval.json")
    ap.add_argument("--no-paper", action="store_true", help="skip the bundled paper networks (faster)")
    ap.add_argument("--augments", nargs="*", default=["room", "mic", "master", "noise", "codec", "band", "all"])
    ap.add_argument("--write-card", type=Path, help="model folder whose card.json gets the metrics")
    ap.add_argument("--mixes", help="instruments: a genre corpus whose full mixes the full-mix notice should catch")
    args = ap.parse_args(argv)
    task = TASKS[args.task]
    if args.from_json:
        result = json.loads((FIGURES / f"{task.name}_backbone_eval.json").read_text())
        command = result["command"]
    else:
        if not (args.generated and args.real):
            ap.error("--generated and --real are needed to measure (or pass --from-json)")
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        result = run(task, args.generated, args.real, tuple(args.augments), paper=not args.no_paper, mixes=args.mixes)
        command = "python -m core.classify.evaluate " + " ".join(argv or sys.argv[1:])
        result["command"] = command
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{task.name}_backbone_eval.json").write_text(json.dumps(result, indent=1))
    (FIGURES / f"{task.name}_backbone_eval.md").write_text(markdown(result) + "\n")
    if args.write_card:
        write_card(result, args.write_card, command)
        write_paper_cards(result)
        write_mapping_card(result)
    print(markdown(result))


if __name__ == "__main__":
    main()
