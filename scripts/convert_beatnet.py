"""Convert BeatNet's pretrained weights (``BeatNet==1.1.3`` wheel, CC BY 4.0) to ``assets/models/beats/beatnet``.

    pip download BeatNet==1.1.3 --no-deps -d /tmp/beatnet
    python scripts/convert_beatnet.py /tmp/beatnet/BeatNet-1.1.3-py3-none-any.whl --model 2

The argument is the wheel, an unpacked wheel/sdist folder, or one ``model_N_weights.pt``. The state dict is
read with ``torch.load(weights_only=True)`` (tensors only, no pickled code) and written as safetensors with
config.json, card.json and the licence text from the wheel's dist-info.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "assets" / "models" / "beats" / "beatnet"
#: Which corpus each checkpoint left out of training (BeatNet's README and BeatNet.py).
LEFT_OUT = {1: "GTZAN", 2: "Ballroom", 3: "Rock Corpus"}
KWARGS = {"dim_in": 272, "num_cells": 150, "num_layers": 2, "conv_out": 150, "kernel_size": 10}


def read_sources(src: Path, model: int) -> tuple[bytes, str | None, str]:
    """(the .pt bytes, the licence text if found, where they came from)."""
    name = f"model_{model}_weights.pt"
    if src.suffix == ".whl" or zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as z:
            pt = z.read(f"BeatNet/models/{name}")
            lic = [n for n in z.namelist() if n.endswith(".dist-info/LICENSE")]
            return pt, z.read(lic[0]).decode() if lic else None, f"{src.name}:BeatNet/models/{name}"
    if src.is_file():
        return src.read_bytes(), None, src.name
    pts = list(src.rglob(name))
    if not pts:
        raise SystemExit(f"{name} not found under {src}")
    lics = list(src.rglob("LICENSE"))
    return pts[0].read_bytes(), lics[0].read_text() if lics else None, str(pts[0].relative_to(src))


def convert(src: Path, model: int = 1, out: Path = OUT) -> dict:
    import torch
    from safetensors.torch import save_file

    from core.beats import beatnet

    pt, licence, origin = read_sources(src, model)
    state = torch.load(io.BytesIO(pt), map_location="cpu", weights_only=True)
    net = beatnet.build(**KWARGS)
    net.load_state_dict(state)  # strict: every name and shape must match the port
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps({"kind": "beatnet", "kwargs": KWARGS}, indent=2) + "\n")
    card = {
        "name": f"BeatNet CRNN, model {model} ({LEFT_OUT[model]} left out of training)",
        "source": "https://pypi.org/project/BeatNet/1.1.3/ (github.com/mjhydri/BeatNet), " + origin,
        "source_sha256": hashlib.sha256(pt).hexdigest(),
        "licence": "CC BY 4.0 (the wheel's BeatNet-1.1.3.dist-info/LICENSE, copied to LICENSE.md)",
        "authors": "Mojtaba Heydari, Frank Cwitkowitz, Zhiyao Duan",
        "paper": "BeatNet: CRNN and Particle Filtering for Online Joint Beat Downbeat and Meter Tracking, ISMIR 2021",
        "changes": "state dict re-saved as safetensors, unchanged; features and network ported to numpy/torch "
                   "(core/beats/beatnet.py)",
        "input": "log-filtered spectrogram + positive difference, 272 x 50 fps at 22050 Hz",
        "output": "softmax (beat, downbeat, no beat) per frame",
        "parameters": int(sum(v.numel() for v in state.values())),
        "command": f"python scripts/convert_beatnet.py {src.name} --model {model}",
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    header = ("# Licence of the BeatNet weights\n\nThe weights in this folder are from BeatNet 1.1.3 by "
              "Mojtaba Heydari et al. (https://github.com/mjhydri/BeatNet), released under the Creative Commons "
              "Attribution 4.0 International licence below (as shipped in the wheel's "
              "dist-info/LICENSE). Changes: re-saved as safetensors, values unchanged.\n\n")
    (out / "LICENSE.md").write_text(header + (licence or "See https://creativecommons.org/licenses/by/4.0/\n"))
    return card


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path, help="BeatNet wheel, unpacked folder, or model_N_weights.pt")
    p.add_argument("--model", type=int, choices=sorted(LEFT_OUT), default=2)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    print(json.dumps(convert(args.source, args.model, args.out), indent=2))


if __name__ == "__main__":
    main()
