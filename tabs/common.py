"""UI pieces every tab shares: its opening text, result elements shown only with a value, the example files.

The server runtime the tabs use (errors, jobs, output files, sessions) is the ``server`` package.
"""
from __future__ import annotations

import gradio as gr

from core.audio import AUDIO_EXTENSIONS
from server.limits import EXAMPLES_DIR


def intro(what: str, details: str = "") -> None:
    """A tab's opening: what it does and what to do, in a sentence or two; how it works in a closed fold.
    Commands, environment variables and checksums belong in docs/, not on the page."""
    gr.Markdown(what, elem_classes=["tab-intro"])
    if details:
        with gr.Accordion("How it works", open=False):
            gr.Markdown(details)


def shown(value) -> dict:
    """A result element's update: its value, visible only when there is one. Results appear with their first
    figure, and a model without figures shows no empty frames (a fresh page at phone width was mostly frames)."""
    return gr.update(value=value, visible=value is not None)


def example_audio() -> list[str]:
    """Bundled example recordings, sorted by name."""
    return sorted(str(p) for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
