"""Effect emulation tab handlers: Stop really stops capture training; bad input is one clear message."""
import threading

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from tabs import effects as tab
from tests.conftest import last


class NoProgress:
    def __call__(self, *args, **kwargs):
        pass


def test_closing_the_capture_generator_stops_training(tmp_path):
    t = np.arange(5 * 44_100) / 44_100
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(tmp_path / "d.wav", x, 44_100)
    sf.write(tmp_path / "w.wav", np.tanh(3 * x), 44_100)
    before = set(threading.enumerate())
    gen = tab.capture(str(tmp_path / "d.wav"), str(tmp_path / "w.wav"), "lstm", 3000, progress=NoProgress())
    cleared = next(gen)
    assert cleared[:4] == (None, None, None, None)  # the last run's results go at once
    status = next(gen)[-1]
    assert status.startswith("Training")
    workers = [t for t in threading.enumerate() if t not in before and t.daemon]
    assert workers, "the training thread should be running"
    gen.close()  # what Gradio does when Stop cancels the event
    for worker in workers:
        worker.join(30)
        assert not worker.is_alive()


def test_capture_without_files_is_one_clear_error():
    with pytest.raises(gr.Error, match="Upload both files"):
        next(tab.capture(None, None, "lstm", 100, progress=NoProgress()))


def test_apply_without_audio_is_one_clear_error():
    with pytest.raises(gr.Error, match="dry signal"):
        last(tab.run(None, "reverb", 20.0, progress=NoProgress()))
