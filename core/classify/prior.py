"""Choose, calibrate and train the default: the zero-shot tag mapping, corrected only where real data earns it.

    python -m core.classify.prior --task instruments --generated .cache/instruments --real .cache/real \
        --out assets/models/instruments/prior

reads from top to bottom:

1. gather the generated corpus (its train split) and the labelled real recordings; embed each once (cached);
2. every candidate — the mapping alone, :class:`~core.classify.heads.TagPrior` with the mapped classes held
   at the mapping, with three strengths of pull back to it, and the free head of ``core.classify.train`` — is
   scored on the real recordings by grouped cross-validation (a package is never on both sides);
3. the candidate is chosen on **real passages** (played phrases, stems, songs: what users upload), never on
   single sampled notes, which get a row of their own; ties are broken by renders of real samples
   (``core.data.sampled``), then by closeness to the mapping (the mapping is the default where data cannot
   show better);
4. a temperature is fitted on the chosen candidate's out-of-fold answers (leave one package out to report the
   calibration error honestly, then on all of them for the shipped model);
5. "uncertain" (top two within ``UNCERTAIN_MARGIN``) is measured: how often it fires and how often those
   answers are right;
6. the chosen model is fitted on everything and saved with its card; the table goes to
   ``docs/figures/<task>_prior.json``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from core.classify.data import Item
from core.classify.evaluate import FIGURES, MIN_REAL, per_item, score
from core.classify.heads import UNCERTAIN_MARGIN, TagPrior, expected_calibration_error, fit_prior, tag_columns
from core.classify.tasks import TASKS, Task
from core.classify.train import Recipe, chosen_recipe, fit, gather, item_rows, split_generated
from core.data.sampled import items as sampled_items
from core.training import update_card

log = logging.getLogger("core.classify.prior")

FEATURE = "penultimate+tags"  # the prior reads the tags (for the mapping) and the penultimate layers
PASSAGE_KINDS = ("phrase", "track")  # what users upload; "note" is one sampled note
REAL_WEIGHT = 5.0  # each real patch counts this many generated ones (as the heads)
PENALTIES = (1.0, 0.1, 0.01)


def mapping_of(task: Task) -> dict:
    """The task's mapping in the tags model's config layout: class → {"mtt": [...], "msd": [...]}."""
    return {c: {"mtt": list(mtt), "msd": list(msd)} for c, (mtt, msd) in task.zero_shot.items()}


class _Mapping:
    """The zero-shot mapping over ``FEATURE`` rows (TagMapping reads tag-only rows)."""

    def __init__(self, task: Task):
        self.columns = tag_columns(list(task.labels), mapping_of(task), FEATURE)

    def predict_proba(self, X):
        s = np.zeros((len(X), len(self.columns)), np.float32)
        for j, cols in enumerate(self.columns):
            if cols:
                s[:, j] = X[:, cols].max(1)
        total = s.sum(1, keepdims=True)
        return np.where(total > 0, s / np.maximum(total, 1e-12), 1.0 / s.shape[1])


def candidates(task: Task, untested=()) -> dict:
    """name → fit(items, (X, item_of)) → model with ``predict_proba`` (and ``logits`` for the priors)."""
    labels, mapping = list(task.labels), mapping_of(task)

    def prior(**kw):
        def fit_fn(items, rows):
            X, item_of = rows
            y = np.array([labels.index(items[k].label) for k in item_of])
            w = np.array([REAL_WEIGHT if items[k].source == "real" else 1.0 for k in item_of], np.float32)
            return fit_prior(X, y, labels, mapping, w, untested=untested, feature=FEATURE, task=task.name, **kw)[0]
        return fit_fn

    out = {"zero-shot tags": lambda items, rows: _Mapping(task),
           "tag prior, mapped classes held at the mapping": prior(fixed_mapped=True)}
    for p in PENALTIES:
        out[f"tag prior, pull-back {p:g}"] = prior(penalty=p)
    head_recipe = chosen_recipe(task)
    out["free head (core.classify.train's chosen recipe)"] = ("head", head_recipe)
    return out


def out_of_fold(task: Task, gen: list[Item], real: list[Item], fit_fn, gen_rows, real_rows, folds: int = 5,
                extra: list[Item] = (), extra_rows=None):
    """Per real recording, the probabilities of a model that never heard its package; the patch logits before
    any temperature (None for models without ``logits``); and, per ``extra`` item (renders of real samples), the
    probabilities of the fold model that never heard the package its samples come from."""
    from sklearn.model_selection import GroupKFold

    Xg, gof = gen_rows
    Xr, rof = real_rows
    groups = np.array([it.group for it in real])
    P = np.zeros((len(real), len(task.labels)), np.float32)
    P_extra = np.zeros((len(extra), len(task.labels)), np.float32)
    logits = np.zeros((len(Xr), len(task.labels)), np.float32)
    has_logits = True
    splits = list(GroupKFold(n_splits=min(folds, len(set(groups)))).split(real, groups=groups))
    for fold, (train_idx, test_idx) in enumerate(splits):
        train = sorted(train_idx.tolist())
        mask = np.isin(rof, train)
        remap = {k: len(gen) + j for j, k in enumerate(train)}
        items = gen + [real[k] for k in train]
        rows = (np.concatenate([Xg, Xr[mask]]), np.concatenate([gof, [remap[k] for k in rof[mask]]]).astype(int))
        model = fit_fn(items, rows)
        test = sorted(test_idx.tolist())
        tmask = np.isin(rof, test)
        P[test] = per_item(model.predict_proba(Xr[tmask]), np.searchsorted(test, rof[tmask]), len(test))
        if isinstance(model, TagPrior):
            with torch.inference_mode():
                logits[tmask] = model.logits(torch.from_numpy(Xr[tmask])).numpy()
        else:
            has_logits = False
        if len(extra):  # a render goes to the fold that left its sample package out (else the last fold)
            held = {real[k].subset for k in test}
            heard = {real[k].subset for k in train}
            mine = [j for j, it in enumerate(extra)
                    if it.subset in held or (fold == len(splits) - 1 and it.subset not in held | heard)]
            Xe, eof = extra_rows
            emask = np.isin(eof, mine)
            P_extra[mine] = per_item(model.predict_proba(Xe[emask]), np.searchsorted(mine, eof[emask]), len(mine))
    return P, (logits if has_logits else None), P_extra


def calibrated(logits: np.ndarray, item_of: np.ndarray, n_items: int, t: float) -> np.ndarray:
    z = torch.softmax(torch.from_numpy(logits / t), 1).numpy()
    return per_item(z, item_of, n_items)


def fit_temperature(logits: np.ndarray, item_of: np.ndarray, y: np.ndarray) -> float:
    """The patch temperature minimising the recordings' negative log-likelihood (mean of the patches' softmax)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        P = calibrated(logits, item_of, len(y), float(np.exp(log_t)))
        return float(-np.log(np.clip(P[np.arange(len(y)), y], 1e-9, 1)).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def uncertain(P: np.ndarray, margin: float = UNCERTAIN_MARGIN) -> np.ndarray:
    """True where the top two probabilities are within ``margin``."""
    top2 = np.sort(P, 1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) < margin


def split_scores(task: Task, real: list[Item], P: np.ndarray) -> dict:
    """Scores on the real passages and, separately, on the single notes."""
    pred = [task.labels[int(i)] for i in P.argmax(1)]
    out = {}
    for name, kinds in (("passages", PASSAGE_KINDS), ("notes", ("note",))):
        idx = [i for i, it in enumerate(real) if it.kind in kinds]
        if idx:
            out[name] = score(task, [real[i] for i in idx], [pred[i] for i in idx])
    return out


def choose(rows: dict) -> str:
    """Best on the real passages (macro accuracy over the measured classes, then accuracy); ties broken by the
    renders of real samples (played passages of real instrument sound, the next-best evidence), then by
    closeness to the mapping (the earlier candidate). The mapping alone is the baseline row, not a candidate:
    it stays its own model ("tags"), while the default adds what it cannot (the classes no tag names, and a
    temperature where one helps)."""
    names = [n for n in rows if n != "zero-shot tags"]

    def key(n):
        s = rows[n]["real"].get("passages") or {}
        r = rows[n].get("sampled_renders") or {}
        return (s.get("macro_accuracy") or 0.0, s.get("accuracy") or 0.0, r.get("accuracy") or 0.0, -names.index(n))

    return max(names, key=key)


def run(task: Task, generated, real_root, sampled_root=None) -> tuple[dict, object]:
    gen, real = gather(task, generated, real_root)
    sampled = [it for it in sampled_items(sampled_root) if it.label in task.labels] if sampled_root else []
    gen_train, _ = split_generated(gen)
    base = Recipe(feature=FEATURE)
    log.info("%s: %d generated train, %d real (%d passages)", task.name, len(gen_train), len(real),
             sum(it.kind in PASSAGE_KINDS for it in real))
    gen_rows, real_rows = item_rows(gen_train, base), item_rows(real, base)
    sampled_rows = item_rows(sampled, base) if sampled else None
    y = np.array([task.labels.index(it.label) for it in real])
    unmapped = [c for c, (mtt, msd) in task.zero_shot.items() if not (mtt or msd)]
    untested = [c for c in unmapped if not any(it.label == c for it in real)]
    result = {"task": task.name, "min_real_per_class": MIN_REAL, "uncertain_margin": UNCERTAIN_MARGIN,
              "n_generated_train": len(gen_train), "n_real": len(real),
              "n_real_passages": sum(it.kind in PASSAGE_KINDS for it in real),
              "real_groups": sorted({it.group for it in real}), "unmapped_classes": unmapped,
              "n_sampled_renders": len(sampled),
              "untested_classes": untested, "candidates": {}}
    oof = {}
    for name, fit_fn in candidates(task, untested).items():
        if isinstance(fit_fn, tuple):  # the free head reads its own recipe's features
            recipe = fit_fn[1]
            g, r = item_rows(gen_train, recipe), item_rows(real, recipe)
            e = item_rows(sampled, recipe) if sampled else None
            P, logits, Ps = out_of_fold(task, gen_train, real, lambda items, rows: fit(task, items, recipe, rows)[0],
                                        g, r, extra=sampled, extra_rows=e)
        else:
            P, logits, Ps = out_of_fold(task, gen_train, real, fit_fn, gen_rows, real_rows, extra=sampled,
                                        extra_rows=sampled_rows)
        oof[name] = (P, logits)
        row = {"real": split_scores(task, real, P), "ece": expected_calibration_error(P, y)}
        if sampled:
            row["sampled_renders"] = score(task, sampled, [task.labels[int(i)] for i in Ps.argmax(1)])
        result["candidates"][name] = row
        log.info("%s: passages %s, notes %s", name, (row["real"].get("passages") or {}).get("accuracy"),
                 (row["real"].get("notes") or {}).get("accuracy"))
    chosen = choose(result["candidates"])
    result["chosen"] = chosen
    P, logits = oof[chosen]
    t_all = 1.0
    if logits is not None:
        real_rof = real_rows[1]
        groups = np.array([it.group for it in real])
        Pc = np.zeros_like(P)
        for g in sorted(set(groups)):  # leave one package out: the temperature never saw the package it is scored on
            test = groups == g
            fit_on = ~test[real_rof]
            t = fit_temperature(logits[fit_on], np.searchsorted(np.flatnonzero(~test), real_rof[fit_on]), y[~test]) \
                if (~test).any() else 1.0
            rows_of = test[real_rof]
            Pc[test] = calibrated(logits[rows_of], np.searchsorted(np.flatnonzero(test), real_rof[rows_of]),
                                  int(test.sum()), t)
        before, after = expected_calibration_error(P, y), expected_calibration_error(Pc, y)
        # a temperature ships only when, fitted on the other packages, it lowered the error on each left-out one
        t_all = fit_temperature(logits, real_rof, y) if after < before else 1.0
        result["calibration"] = {"ece_before": before, "ece_after": after, "temperature": t_all,
                                 "protocol": "temperature fitted leaving one package out; per recording, 10 bins"}
        if after < before:
            P = Pc
    unc = uncertain(P)
    right = P.argmax(1) == y
    result["uncertain"] = {"margin": UNCERTAIN_MARGIN, "n": len(y), "flagged": int(unc.sum()),
                           "accuracy_flagged": float(right[unc].mean()) if unc.any() else None,
                           "accuracy_not_flagged": float(right[~unc].mean()) if (~unc).any() else None}
    model = None
    fit_fn = candidates(task, untested)[chosen]
    if not isinstance(fit_fn, tuple) and chosen != "zero-shot tags":
        items = gen_train + real
        rows = (np.concatenate([gen_rows[0], real_rows[0]]),
                np.concatenate([gen_rows[1], real_rows[1] + len(gen_train)]))
        model = fit_fn(items, rows)
        model.temperature.fill_(t_all)
    return result, model


def markdown(result: dict) -> str:
    """Every candidate in one table: real passages per class (n), then the single notes, and the calibration error."""
    task = TASKS[result["task"]]
    rows = result["candidates"]
    first = next(iter(rows.values()))["real"]
    pas, notes = first.get("passages", {"per_class": {}}), first.get("notes", {"per_class": {}})
    classes = [c for c in task.labels if c in pas["per_class"]]
    renders = next(iter(rows.values())).get("sampled_renders")
    head = ["model", "passages acc.", *[f"{c} (n={pas['per_class'][c]['n']})" for c in classes],
            "single notes acc." + (f" (n={notes['n']})" if notes.get("n") else ""),
            *([f"renders of real samples acc. (n={renders['n']})"] if renders else []), "ECE (real, uncalibrated)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, row in rows.items():
        p, n = row["real"].get("passages"), row["real"].get("notes")
        mark = " **(chosen)**" if name == result["chosen"] else ""
        lines.append("| " + " | ".join([name + mark, f"{p['accuracy']:.2f}" if p else "—",
                                         *[f"{p['per_class'][c]['correct']}/{p['per_class'][c]['n']}" for c in classes],
                                         f"{n['accuracy']:.2f}" if n else "—",
                                         *([f"{row['sampled_renders']['accuracy']:.2f}"] if renders else []),
                                         f"{row['ece']:.2f}"]) + " |")
    lines.append("")
    thin = [c for c in task.labels if pas["per_class"].get(c, {}).get("n", 0) < MIN_REAL]
    lines.append(f"Chosen on real passages (grouped cross-validation by package); ties are broken by the renders "
                 f"of real samples, then by closeness to the mapping. Classes with fewer than {MIN_REAL} real "
                 f"passages: {', '.join(thin) or 'none'}.")
    if renders:
        per = next(iter(rows.values()))["sampled_renders"]["per_class"]
        counts = ", ".join(f"{c} {v['n']}" for c, v in per.items())
        lines.append(f"Renders of real samples (`core.data.sampled`: real sampled notes sequenced into music21 tunes, "
                     f"algorithmic rooms; not real recordings): {counts}; each is scored by the fold model that never "
                     "heard its sample package.")
    if result.get("unmapped_classes"):
        lines.append(f"No tag speaks for {', '.join(result['unmapped_classes'])}: only the learned part can name them.")
    c = result.get("calibration")
    if c and c["ece_after"] < c["ece_before"]:
        lines.append(f"Calibration: expected calibration error {c['ece_before']:.2f} → {c['ece_after']:.2f} with a "
                     f"temperature ({c['protocol']}); shipped temperature {c['temperature']:.2f}.")
    elif c:
        lines.append(f"Calibration: a temperature fitted on the other packages raised the error on the left-out one "
                     f"({c['ece_before']:.2f} → {c['ece_after']:.2f}), so none is applied (expected calibration "
                     f"error {c['ece_before']:.2f}).")
    u = result["uncertain"]
    if u["flagged"]:
        lines.append(f"\"Uncertain\" (top two within {u['margin']:.2f}) marks {u['flagged']} of {u['n']} real "
                     f"recordings; {u['accuracy_flagged']:.0%} of those are right, against "
                     f"{u['accuracy_not_flagged']:.0%} of the rest.")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--generated", required=True)
    ap.add_argument("--real", required=True)
    ap.add_argument("--sampled", help="renders of real samples (python -m core.data.sampled): a row of their own")
    ap.add_argument("--out", type=Path, help="where to save the chosen model (assets/models/<task>/prior)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = TASKS[args.task]
    torch.manual_seed(0)
    result, model = run(task, args.generated, args.real, args.sampled)
    command = "python -m core.classify.prior " + " ".join(argv or sys.argv[1:])
    result["command"] = command
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{task.name}_prior.json").write_text(json.dumps(result, indent=1))
    table = markdown(result)
    (FIGURES / f"{task.name}_prior.md").write_text(table + "\n")
    print(table)
    if args.out and model is not None:
        model.save_pretrained(str(args.out))
        (args.out / "README.md").unlink(missing_ok=True)  # the mixin's template card; ours is card.json
        chosen = result["candidates"][result["chosen"]]["real"]
        update_card(args.out, {"real_passages": chosen.get("passages"), "real_notes": chosen.get("notes"),
                               "sampled_renders": result["candidates"][result["chosen"]].get("sampled_renders"),
                               "calibration": result.get("calibration"), "uncertain": result["uncertain"]},
                    command, data=f"{result['n_generated_train']} generated recordings (train split of "
                    f"{args.generated}) + {result['n_real']} real recordings ({args.real})",
                    name=f"{task.name}/prior", task=task.name, command=command, seed=0, metrics_table=table,
                    architecture=f"zero-shot tag mapping (config) + linear correction over the frozen musicnn "
                                 f"MTT+MSD {FEATURE}, pulled back to the mapping ({result['chosen']}); temperature",
                    training_data=f"{result['n_generated_train']} generated + {result['n_real']} real recordings",
                    backbone_licence="musicnn weights: ISC (Pons & Serra)")
        print(f"saved {args.out}")


if __name__ == "__main__":
    main()
