"""Resident memory of the whole app with every tab's bundled models loaded (budget: 2.5 GB on CPU).

    python bench/bench_memory.py [--write]   # JSON: RSS after building the app, after loading each capability's models
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import psutil


def rss_mb() -> float:
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _generation():
    from core.generation.api import load

    return [load(n) for n in ("lstm", "gan", "markov")]


def _instruments():
    from core.instruments.api import BUNDLED, load

    return [load(n) for n in BUNDLED]


def _genre():
    from core.genre.api import bundled_models, load

    return [load(n) for n in bundled_models()]


def _effects():
    from core.effects.api import bundled, load

    return [load(n) for n in bundled()]


def _backbones():
    from core.backbones import musicnn

    return [musicnn.load(n) for n in musicnn.BUNDLED]


def _search():
    from core.search.spaces import load

    return [load()]


def main() -> dict:
    import app
    from core import registry

    out = {"import_mb": rss_mb()}
    app.build_app()
    out["app_built_mb"] = rss_mb()
    loaders = {"generation": _generation, "instruments": _instruments, "genre": _genre, "effects": _effects,
               "search": _search, "backbones": _backbones}
    for name, load in loaders.items():
        try:
            load()
            out[f"after_{name}_mb"] = rss_mb()
        except (ImportError, ValueError) as err:  # a capability without bundled models yet
            out[f"after_{name}_mb"] = f"skipped: {err}"
    out["models_loaded"] = registry.loaded()
    out["total_mb"] = rss_mb()
    out["budget_mb"] = 2560
    out["within_budget"] = out["total_mb"] < 2560
    return out


if __name__ == "__main__":
    result = main()
    if "--write" in sys.argv:  # the README's memory sentence (scripts/update_readme_tables.py)
        figure = Path(__file__).resolve().parent.parent / "docs" / "figures" / "memory.json"
        figure.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
