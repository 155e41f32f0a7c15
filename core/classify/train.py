"""Train a head on the frozen musicnn backbones: the real-music default for genre or instruments.

    python -m core.classify.train --task genre --generated .cache/genre/corpus --real .cache/real \
        --out assets/models/genre/musicnn

reads nanoGPT-style from top to bottom: gather the items (generated corpus + labelled real recordings),
embed each file once through both taggers (cached), fit the head on the patches, save it with its
config (``TagHead.from_pretrained(out)`` rebuilds it). The card's metrics are written by
``python -m core.classify.evaluate --write-card``, which measures the same recipe on held-out data.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.backbones.embed import FEATURES, embed_file, features
from core.classify.data import Item, generated_items, real_items
from core.classify.heads import TagHead, fit_head
from core.classify.tasks import TASKS, Task
from core.data.realism import augment
from core.training import progress_bar


@dataclass
class Recipe:
    """Everything that decides the head; chosen on the real dev set by cross-validation (evaluate.py)."""

    feature: str = "penultimate+tags"
    backbones: tuple[str, ...] = ("mtt", "msd")
    hidden: int = 0
    dropout: float = 0.3
    weight_decay: float = 1e-3
    epochs: int = 300
    lr: float = 3e-3
    real_weight: float = 5.0  # each real patch counts this many generated ones
    augment: str = ""  # core.data.realism name applied to the generated corpus ("" = none)
    seed: int = 0


def item_rows(items: list[Item], recipe: Recipe, augment_generated: bool = True, progress=None):
    """(X, y index, item index per row) for the items' 3 s patches; generated audio gets ``recipe.augment``."""
    X, item_of = [], []
    for k, it in enumerate(items):
        name = recipe.augment if (augment_generated and it.source == "generated" and recipe.augment) else ""
        fn = (lambda y, sr, n=name: augment(y, sr, n, recipe.seed)) if name else None
        e = embed_file(it.path, recipe.backbones, augment=fn, augment_name=name)
        F = features(e, recipe.feature, recipe.backbones)
        X.append(F)
        item_of += [k] * len(F)
        if progress:
            progress((k + 1) / len(items), f"embedded {k + 1}/{len(items)}: {it.path.name}")
    return np.concatenate(X), np.asarray(item_of)


def fit(task: Task, items: list[Item], recipe: Recipe, rows=None, progress=None) -> tuple[TagHead, list[float]]:
    """Fit the head on every patch of ``items`` (rows may be passed in to reuse embeddings)."""
    X, item_of = rows if rows is not None else item_rows(items, recipe)
    labels = list(task.labels)
    y = np.array([labels.index(items[k].label) for k in item_of])
    w = np.array([recipe.real_weight if items[k].source == "real" else 1.0 for k in item_of], np.float32)
    return fit_head(X, y, labels, w, feature=recipe.feature, backbones=recipe.backbones, hidden=recipe.hidden,
                    dropout=recipe.dropout, weight_decay=recipe.weight_decay, epochs=recipe.epochs, lr=recipe.lr,
                    seed=recipe.seed, task=task.name, progress=progress)


def gather(task: Task, generated, real) -> tuple[list[Item], list[Item]]:
    gen = generated_items(task, generated) if generated else []
    rea = real_items(task, real) if real else []
    if not gen and not rea:
        raise ValueError("No training data: pass --generated and/or --real.")
    return gen, rea


def split_generated(items: list[Item], test_fraction: float = 0.2, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """Train/test by group (a piece's renders stay together), stratified by class, seeded."""
    from sklearn.model_selection import StratifiedGroupKFold

    if not items:
        return [], []
    k = max(2, round(1 / test_fraction))
    y = [i.label for i in items]
    g = [i.group for i in items]
    train_idx, test_idx = next(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(items, y, g))
    return [items[i] for i in train_idx], [items[i] for i in test_idx]


def save(head: TagHead, out: Path, recipe: Recipe, extra_card: dict | None = None) -> Path:
    out = Path(out)
    head.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # the mixin's template card; ours is card.json
    card_path = out / "card.json"
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    card.update(extra_card or {})
    card["recipe"] = asdict(recipe)
    card_path.write_text(json.dumps(card, indent=2))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--generated", help="rendered corpus folder")
    ap.add_argument("--real", help="folder built by python -m core.data.real")
    ap.add_argument("--out", required=True)
    ap.add_argument("--recipe", help="JSON of Recipe fields (default: the one evaluate.py chose, in docs/figures)")
    ap.add_argument("--data-command", action="append", default=[],
                    help="how the data folders were made (repeatable); written into the card")
    args = ap.parse_args(argv)
    task = TASKS[args.task]
    recipe = Recipe(**json.loads(args.recipe)) if args.recipe else chosen_recipe(task)
    if recipe.feature not in FEATURES:
        raise SystemExit(f"--recipe feature must be one of {', '.join(FEATURES)}")
    gen, rea = gather(task, args.generated, args.real)
    gen_train, _ = split_generated(gen, seed=recipe.seed)
    items = gen_train + rea
    head, losses = fit(task, items, recipe, item_rows(items, recipe, progress=progress_bar("embed")))
    save(head, Path(args.out), recipe, {
        "name": f"{task.name}-musicnn", "task": task.name,
        "architecture": f"frozen musicnn {'+'.join(recipe.backbones).upper()} → {recipe.feature} per 3 s patch → "
                        + (f"MLP {recipe.hidden}" if recipe.hidden else "linear") + f" → {len(task.labels)} classes",
        "training_data": f"{len(gen_train)} generated recordings (train split of {args.generated}) + {len(rea)} real "
                         f"recordings ({args.real}; manifest lists package, version, path, label evidence)",
        "command": "python -m core.classify.train " + " ".join(argv or __import__("sys").argv[1:]),
        "seed": recipe.seed, "final_train_loss": losses[-1], "backbone_licence": "musicnn weights: ISC (Pons & Serra)",
        "data_commands": args.data_command,
    })
    print(f"saved {args.out}: {len(items)} recordings, final loss {losses[-1]:.3f}")


def chosen_recipe(task: Task) -> Recipe:
    """The recipe evaluate.py chose on the real dev set (docs/figures/<task>_backbone_eval.json), else the default."""
    path = Path(__file__).resolve().parents[2] / "docs" / "figures" / f"{task.name}_backbone_eval.json"
    if path.exists():
        chosen = json.loads(path.read_text()).get("chosen_recipe")
        if chosen:
            chosen["backbones"] = tuple(chosen["backbones"])
            return Recipe(**chosen)
    return Recipe()


if __name__ == "__main__":
    main()
