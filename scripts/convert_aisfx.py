"""Convert aiSFX's embedding network (``aisfx==0.1.2`` wheel, model CC BY 4.0) to ``assets/models/backbones/aisfx``.

    pip download aisfx==0.1.2 --no-deps -d /tmp/aisfx
    python scripts/convert_aisfx.py /tmp/aisfx/aisfx-0.1.2-py2.py3-none-any.whl

The checkpoint (``aisfx/models/checkpoint.pth``) is a pickle of (state dict, dataset table); it is read once here,
and only the ``embedding_net.*`` tensors are kept (the nine per-dataset classifier heads are dropped), written in
float16 as safetensors (9.4 MB; cosine ≥ 0.99999 to float32 on the library evaluation) with config.json,
card.json and the licence with the attribution and the changes made.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from pathlib import Path

from core.backbones.aisfx import BUNDLED_DIR, KIND, EmbeddingNet

CHECKPOINT = "aisfx/models/checkpoint.pth"
LICENSE = "aisfx-0.1.2.dist-info/licenses/LICENSE"
ATTRIBUTION = """# aiSFX embedding network: licence and attribution

The weights in this folder are the embedding network of **aiSFX** by Annie Chu (A. B.) Ma and Alexander Lerch,
"Representation Learning for the Automatic Indexing of Sound Effects Libraries", ISMIR 2022, from the PyPI wheel
`aisfx-0.1.2-py2.py3-none-any.whl` (sha256 {wheel_sha}), file `{checkpoint}` (sha256 {ckpt_sha}).

The package states: "This pre-trained model and paper is made available under a Creative Commons Attribution 4.0
International License (CC BY 4.0)"; its LICENSE file (below) is that licence's text,
"Copyright (c) 2022 A.B. Ma and A. Lerch". https://creativecommons.org/licenses/by/4.0/

**Changes made here**: only the embedding network's tensors are kept (the per-dataset classifier heads are
removed), converted to float16 and saved as safetensors by `scripts/convert_aisfx.py`. The network was rebuilt in
PyTorch (`core/backbones/aisfx.py`); none of the package's code is used. The model was trained by its authors on
commercial sound-effects libraries, which are not distributed here.

---

{licence}
"""


def write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv=None) -> None:
    import torch
    from safetensors.torch import save_file

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wheel", type=Path)
    p.add_argument("--out", type=Path, default=BUNDLED_DIR)
    args = p.parse_args(argv)
    wheel = args.wheel.read_bytes()
    with zipfile.ZipFile(args.wheel) as z:
        ckpt, licence = z.read(CHECKPOINT), z.read(LICENSE).decode()
    # a pickle of (state dict, dataset table) from the authors' wheel: read once, here, never by the app
    obj = torch.load(io.BytesIO(ckpt), map_location="cpu", weights_only=False)
    state = obj[0] if isinstance(obj, (tuple, list)) else obj
    prefix = "embedding_net."
    sd = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    net = EmbeddingNet()
    net.load_state_dict({k: v.float() for k, v in sd.items()})  # strict: every tensor has its place
    args.out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, str(args.out / "model.safetensors"))
    write_json(args.out / "config.json", {"kind": KIND, "kwargs": {"width": 64}})
    params = sum(v.numel() for v in net.parameters())
    write_json(args.out / "card.json", {
        "name": "aisfx",
        "task": "sound-effects / sample embedding (the sample library's third similarity space)",
        "architecture": f"aiSFX EmbeddingNet (Ma & Lerch, ISMIR 2022): 4 × 2 conv3x3+BN+ReLU blocks (64-512 "
                        f"channels), mean over frequency, max over time, 512-d per 2.3 s block; {params} parameters",
        "training_data": "commercial sound-effects libraries (Pro Sound Effects, Soundly, UCS-compliant sets), "
                         "trained by the authors; not retrained here",
        "origin": f"PyPI wheel {args.wheel.name} (sha256 {_sha(wheel)}), {CHECKPOINT} (sha256 {_sha(ckpt)})",
        "licence": "CC BY 4.0 (c) 2022 A.B. Ma and A. Lerch; see LICENSE.md beside this card",
        "command": f"python scripts/convert_aisfx.py {args.wheel.name}",
        "seed": None,
        "metrics": {"measured": "python -m core.library.evaluate --write-docs; python -m core.library.identify "
                                "--write (docs/library.md)"},
    })
    (args.out / "LICENSE.md").write_text(ATTRIBUTION.format(wheel_sha=_sha(wheel), checkpoint=CHECKPOINT,
                                                            ckpt_sha=_sha(ckpt), licence=licence))
    print(f"wrote {args.out}: {params} parameters")


if __name__ == "__main__":
    main()
