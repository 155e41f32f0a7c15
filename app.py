"""Music ML Studio: one Gradio process serving every tab.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import io
import logging
import os
import threading

import gradio as gr
import matplotlib.pyplot  # noqa: F401  Gradio switches the backend per request: a first import racing in two threads fails
from starlette.middleware import Middleware

from core import analysis, registry
from server import data_api
from server.fairness import ClientLimit
from server.files import OUTPUT_ROOT, release_all, release_idle_sessions, release_session
from server.gradio_internals import StudioBlocks
from server.limits import EXAMPLES_DIR, LIBRARY_DIR, MAX_UPLOAD
from server.memory import keep_memory_flat
from tabs import TABS

HEADER = """# Music ML Studio
Machine-learning tools for musicians, producers and game developers, each built on a paper and trained here.
Everything runs in this process; no audio leaves the server."""


def build_app() -> gr.Blocks:
    """Assemble the tabs listed in ``tabs.TABS`` into one Blocks app with a request queue."""
    # Gradio's upload/output cache otherwise grows for ever: every hour, drop files older than two hours.
    with StudioBlocks(title="Music ML Studio", delete_cache=(3600, 7200)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs(overflow_behavior="wrap"):  # at phone width every tab stays on screen, on two or three rows
            for name in TABS:
                module = importlib.import_module(f"tabs.{name}")
                with gr.Tab(module.TITLE, id=name):
                    module.build()
        gr.Markdown(f"<small>Running on `{registry.device()}`.</small>")
        data_api.register(demo)  # JSON endpoints for scripts: /api_genre, /api_instruments, ...
        demo.unload(release_session)  # a closed tab's files and state go now, not an hour later
    # Heavy handlers share one limit through server.jobs.heavy() (concurrency_id "heavy": 3 on CPU, 1 per GPU);
    # this default covers the short interactive steps, each of which has its own listener.
    # api_open=False: the direct REST routes (/gradio_api/run/...) would skip the queue and every limit on it.
    demo.queue(default_concurrency_limit=4, max_size=64, api_open=False)
    return demo


@contextlib.asynccontextmanager
async def lifespan(app):
    """Nothing is left behind at shutdown: handed-back files and this process's Gradio cache go."""
    yield
    release_all()


def warm_up() -> None:
    """Analyse, plot and search a short tone so librosa's numba kernels, the beat and chord networks, matplotlib
    and the search encoder are loaded before the first user (a first search otherwise spent 2 s importing, where
    Stop cannot reach, and a first analysis compiled its kernels at a cost of 500 MB and seconds)."""
    import numpy as np

    from core import plots
    from core.search import spaces
    from core.search.api import Workspace

    t = np.arange(3 * analysis.ANALYSIS_SR) / analysis.ANALYSIS_SR  # 3 s: long enough for beats and chords
    result = analysis.analyse((0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), analysis.ANALYSIS_SR)
    plots.spectrogram(result.log_mel, result.sr).savefig(io.BytesIO(), format="png")
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(3 * spaces.SR)).astype(np.float32)
    Workspace("warm-up", noise, spaces.SR).start(0.5, 0.5, "learned", patience=2, kind="sample", bpm=120.0)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    # before any thread: the allocator settings apply to arenas made from now on; idle API sessions go meanwhile
    keep_memory_flat(chores=[release_idle_sessions])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A Gradio cache of this process's own, so that what users uploaded goes with it at shutdown.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(OUTPUT_ROOT.parent / f"{OUTPUT_ROOT.name}_gradio"))
    atexit.register(release_all)  # also after Ctrl-C, when the server's lifespan may not finish
    registry.set_device(args.device)
    if registry.device().type == "cpu":
        # Two requests run at once (the queue's limit), one core each: per-op thread hand-offs cost
        # more than they give on the small sequential ops of sampling (the LSTM: 4 s vs 0.08 s).
        import torch

        torch.set_num_threads(1)
    demo = build_app()
    # Load librosa's compiled kernels while the server starts, not during the first request.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_UPLOAD,
        # the JSON endpoints hand back files from the per-session output folders (random names, swept)
        allowed_paths=[str(EXAMPLES_DIR), str(OUTPUT_ROOT), str(LIBRARY_DIR)],
        theme=gr.themes.Soft(),
        # one client cannot fill the queue: see server.fairness
        app_kwargs={"middleware": [Middleware(ClientLimit)], "lifespan": lifespan},
    )


if __name__ == "__main__":
    main()
