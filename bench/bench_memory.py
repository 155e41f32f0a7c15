"""Resident memory of the whole app with every tab's bundled models loaded and used (budget: 1 GB on CPU).

    python bench/bench_memory.py [--write]   # JSON: RSS after building the app, after loading each capability's
                                             # models, then after a 3-minute song through genre, instruments, analysis
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import psutil

PEAKS: dict[str, float] = {}  # the process's peak so far after each step of the song


def peak_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


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


def _library():
    from core.backbones import aisfx

    return [aisfx.load()]


def _analysis():
    from core.beats import beatnet
    from core.chords import crema

    return [beatnet.load(), crema.load()]


def _search():
    from core.search.spaces import load

    return [load()]


BUDGET_MB = 1024  # issue 28: every model loaded, under 1 GB resident


def _make_song(folder: Path) -> str:
    """The latency bench's 3-minute song, written in a child process: its arrays never count here."""
    import subprocess

    code = ("import sys; from pathlib import Path; from bench.bench_latency import three_minutes; "
            "print(three_minutes(Path(sys.argv[1])))")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def _a_song_through_every_tab(song: str):
    """A 3-minute 44.1 kHz stereo song through analysis, genre and instruments, as a user would: the backbones'
    runtime sessions and their buffers are made on first use, so loading alone would under-count."""
    from core import analysis
    from core.genre import api as genre_api
    from core.instruments import api as inst_api
    from server.memory import trim

    for name, run in (("analysis", lambda: analysis.analyse_file(song)),
                      ("genre", lambda: genre_api.predict_file(song, with_tags=True)),
                      ("instruments", lambda: inst_api.predict_file(song))):
        run()
        trim()  # as every request's job ends in the app (server.jobs)
        PEAKS[f"peak_after_{name}_mb"] = peak_mb()


def main() -> dict:
    import tempfile

    from server.memory import give_memory_back, keep_memory_flat

    keep_memory_flat()  # the allocator settings and the keeper the app runs with (app.main)
    tmp = tempfile.TemporaryDirectory()
    song = _make_song(Path(tmp.name))  # first: making the test file is not the app's memory
    give_memory_back()
    import app
    from core import registry

    out = {"import_mb": rss_mb()}
    app.build_app()
    app.warm_up()  # as app.main starts it: the compiled kernels and the analysis networks, before any user
    give_memory_back()
    out["app_built_mb"] = rss_mb()
    loaders = {"generation": _generation, "instruments": _instruments, "genre": _genre, "effects": _effects,
               "search": _search, "backbones": _backbones, "library": _library, "analysis": _analysis,
               "a_song_through_every_tab": lambda: _a_song_through_every_tab(song)}
    for name, load in loaders.items():
        try:
            load()
            out[f"after_{name}_mb"] = rss_mb()
        except (ImportError, ValueError) as err:  # a capability without bundled models yet
            out[f"after_{name}_mb"] = f"skipped: {err}"
    out["models_loaded"] = registry.loaded()
    give_memory_back()  # what the app's keeper does every few seconds
    out["total_mb"] = rss_mb()
    out["peak_mb"] = peak_mb()
    out.update(PEAKS)
    out["budget_mb"] = BUDGET_MB
    # the target is resident memory with every model loaded (at rest, after a song went through every tab);
    # the peak while the song is read is reported beside it
    out["within_budget"] = out["total_mb"] < BUDGET_MB
    out["peak_within_budget"] = out["peak_mb"] < BUDGET_MB
    return out


if __name__ == "__main__":
    result = main()
    if "--write" in sys.argv:  # the README's memory sentence (scripts/update_readme_tables.py)
        figure = Path(__file__).resolve().parent.parent / "docs" / "figures" / "memory.json"
        figure.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
