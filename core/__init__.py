"""The studio's engine: audio I/O, features, plots, rendering, models. Never imports gradio."""
import os
from pathlib import Path

# librosa's numba kernels take 35-70 s to compile in a fresh process; a persistent
# cache makes every later process (app, tests, benches) start in seconds.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba"))
