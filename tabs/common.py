"""Helpers every tab shares: turning core errors into one clear message, example files, output paths."""
from __future__ import annotations

import functools
import logging
import tempfile
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


def output_path(name: str) -> Path:
    """A fresh path for a file handed back to one user (a temp dir per call, so users never collide)."""
    return Path(tempfile.mkdtemp(prefix="music_studio_")) / name
