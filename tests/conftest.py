"""Shared fixtures: small signals and files made on the fly (no downloaded data)."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba"))
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "assets" / "examples"


def tone(freq: float = 440.0, seconds: float = 1.0, sr: int = 22_050, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def sine():
    return tone()


@pytest.fixture(scope="session")
def test_output() -> Path:
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    return out


def produced(result) -> list:
    """What a handler showed, in order: heavy handlers are generators (cancellable) that also yield
    ``gr.skip()`` while they wait, which shows nothing."""
    import inspect

    import gradio as gr

    if not inspect.isgenerator(result):
        return [result]
    return [out for out in result if not (isinstance(out, dict) and out == gr.skip())]


def last(result):
    """A handler's final outputs."""
    return produced(result)[-1]
