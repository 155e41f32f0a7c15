"""The app as a subprocess for benches that drive it through gradio_client: a free port, its own temp folders,
and its resident memory, open files and temp-folder sizes on demand."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _folder_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return round(total / 2**20, 1)


class App:
    """``python app.py`` in a subprocess, with the temp folders it writes to under one directory."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        env = {**os.environ, "TMPDIR": str(tmp), "GRADIO_TEMP_DIR": str(tmp / "gradio"), "PYTHONUNBUFFERED": "1",
               "GRADIO_ANALYTICS_ENABLED": "False"}
        self.log = open(tmp / "app.log", "w")
        self.proc = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port)], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 240
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited: {(tmp / 'app.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        self.ps = psutil.Process(self.proc.pid)

    def sample(self) -> dict:
        return {"rss_mb": round(self.ps.memory_info().rss / 2**20, 1), "fds": self.ps.num_fds(),
                "outputs_mb": _folder_mb(self.tmp / f"music_studio_{self.proc.pid}"),
                "gradio_cache_mb": _folder_mb(self.tmp / "gradio")}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


