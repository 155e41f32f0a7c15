"""Helpers every tab shares: turning core errors into one clear message, example files, output paths."""
from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from core.audio import AUDIO_EXTENSIONS, AudioError

log = logging.getLogger("music_studio")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "assets" / "examples"
#: Upload limit handed to ``launch(max_file_size=...)``; the loaders cap duration too.
MAX_UPLOAD = "50mb"
#: Longest audio any tab analyses; longer uploads are cut to this and the user is told.
MAX_SECONDS = 600.0


def user_errors(fn):
    """Show bad input as one ``gr.Error`` message, and never a traceback.

    ``AudioError`` and ``ValueError`` carry messages written for users; anything
    else is a bug: it is logged with its traceback on the server and the user
    sees a short apology naming the error type.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (AudioError, ValueError) as err:
            raise gr.Error(str(err)) from None
        except MemoryError:
            raise gr.Error("The input is too large to process in memory; try a shorter excerpt.") from None
        except Exception as err:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(err).__name__}); the server log has the details.") from None

    return wrapper


def example_audio() -> list[str]:
    """Bundled example recordings, sorted by name."""
    return sorted(str(p) for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)


#: Files handed back live under one folder per process and are swept after this long (Gradio has copied
#: them into its own cache by then; ``launch(delete_cache=...)`` cleans that one).
OUTPUT_TTL_S = 3600
OUTPUT_ROOT = Path(tempfile.gettempdir()) / f"music_studio_{os.getpid()}"


def sweep_outputs(max_age_s: float = OUTPUT_TTL_S) -> int:
    """Remove handed-back files older than ``max_age_s``; returns how many folders went."""
    if not OUTPUT_ROOT.is_dir():
        return 0
    now, removed = time.time(), 0
    for d in OUTPUT_ROOT.iterdir():
        try:
            if now - d.stat().st_mtime > max_age_s:
                shutil.rmtree(d, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # another request swept it first
            pass
    return removed


def output_path(name: str) -> Path:
    """A fresh path for a file handed back to one user (a folder per call, so users never collide).

    Every call also sweeps the folders older than ``OUTPUT_TTL_S``, so the disk stays bounded.
    """
    sweep_outputs()
    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="out_", dir=OUTPUT_ROOT)) / name


def heavy() -> dict:
    """Event options for CPU/GPU-bound handlers: one limit shared by all of them.

    Gradio's concurrency limit applies per event listener unless listeners share a ``concurrency_id``; without
    this, a 2-core machine ran up to ten heavy jobs at once. Two at a time on CPU, one per GPU. Short
    interactive steps (search answers, ABX, stop) do not use it, so they never wait behind long jobs.
    """
    from core import registry

    return {"concurrency_id": "heavy", "concurrency_limit": 1 if registry.device().type == "cuda" else 2}
