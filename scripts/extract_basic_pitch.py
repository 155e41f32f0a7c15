"""Copy basic-pitch's ONNX note transcriber, its licence and notice out of the PyPI wheel into assets/.

    python scripts/extract_basic_pitch.py            # downloads basic-pitch==0.4.0 with pip (no dependencies)

basic-pitch (Spotify, ICASSP 2022, Apache-2.0) ships ``saved_models/icassp_2022/nmp.onnx`` (230 KB) in its
wheel. Installing the package pulls TensorFlow; the ONNX file alone runs on onnxruntime, so only it ships.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "models" / "transcription" / "basic-pitch"
VERSION = "0.4.0"
MEMBERS = {"basic_pitch/saved_models/icassp_2022/nmp.onnx": "nmp.onnx",
           f"basic_pitch-{VERSION}.dist-info/LICENSE": "LICENSE", f"basic_pitch-{VERSION}.dist-info/NOTICE": "NOTICE"}


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", f"basic-pitch=={VERSION}", "--no-deps", "-q", "-d", d],
                       check=True)
        wheel = next(Path(d).glob("basic_pitch-*.whl"))
        OUT.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as z:
            for member, name in MEMBERS.items():
                (OUT / name).write_bytes(z.read(member))
    onnx = OUT / "nmp.onnx"
    source = {"package": "basic-pitch", "version": VERSION, "file": "basic_pitch/saved_models/icassp_2022/nmp.onnx",
              "sha256": hashlib.sha256(onnx.read_bytes()).hexdigest(),
              "licence": "Apache-2.0 (LICENSE, NOTICE beside it)",
              "command": "python scripts/extract_basic_pitch.py"}
    (OUT / "source.json").write_text(json.dumps(source, indent=2) + "\n")
    print(json.dumps(source, indent=2))


if __name__ == "__main__":
    main()
