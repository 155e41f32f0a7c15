"""Export the bundled musicnn backbones to ONNX, the network ``musicnn.load`` runs in ONNX Runtime.

    PYTHONPATH=/path/to/onnx python scripts/export_musicnn_onnx.py [--names mtt msd]

Writes ``assets/models/backbones/<name>/model.onnx`` from the PyTorch port (the same float32 arithmetic:
sign-folded front end, timbral filters through the DFT over the bands) and merges into that folder's
``card.json`` an ``onnx`` entry: the command, opset, the onnx / torch / onnxruntime versions and the parity
of ONNX Runtime against PyTorch and against the TensorFlow original (``tests/data/musicnn/reference.npz``).

``torch.onnx.export`` needs the ``onnx`` package, which the app does not: install it anywhere outside the
project's environment (``pip install --target /tmp/onnxlib onnx``) and put it on ``PYTHONPATH``, after numpy.
Run it again whenever ``model.safetensors`` changes: the app refuses an export of other weights (their
SHA-256 is in the file's metadata) and falls back to PyTorch.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OPSET = 17
COMMAND = "PYTHONPATH=/tmp/onnxlib python scripts/export_musicnn_onnx.py"
REFERENCE = ROOT / "tests" / "data" / "musicnn" / "reference.npz"
CLIPS = ("rock", "classical", "violin", "dnb")
TF_MODEL = {"mtt": "MTT_musicnn", "msd": "MSD_musicnn"}


def export(name: str) -> dict:
    import onnx
    import onnxruntime as ort
    import torch

    from core.backbones import musicnn

    folder = musicnn.BUNDLED_DIR / musicnn.BUNDLED[name]
    net = musicnn.Musicnn.from_pretrained(str(folder)).eval()
    net.prepare()

    class Outputs(torch.nn.Module):
        """The four per-patch outputs ``Musicnn.embed`` returns, as a plain tuple."""

        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, patches):
            o = self.net(patches)
            return o.tags, o.penultimate, o.mean_pool, o.max_pool

    example = torch.from_numpy(np.load(REFERENCE)["rock_mel"][:2])
    out = folder / musicnn.ONNX_FILE
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        raw = Path(tmp) / "raw.onnx"
        torch.onnx.export(Outputs(net).eval(), (example,), str(raw), input_names=["patches"],
                          output_names=list(musicnn.ORT_OUTPUTS),
                          dynamic_axes={k: {0: "n"} for k in ("patches", *musicnn.ORT_OUTPUTS)},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
        model = onnx.load(str(raw))
    onnx.checker.check_model(model)
    meta = {"weights_sha256": musicnn.file_sha256(folder / "model.safetensors"), "source": net.source,
            "exported_by": COMMAND, "torch": torch.__version__, "onnx": onnx.__version__}
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    model.producer_name = "music-ml-studio"
    model.doc_string = f"musicnn {name} backbone, exported from the PyTorch port"
    onnx.save(model, str(out))

    parity = measure_parity(name, net, out)
    entry = {"file": musicnn.ONNX_FILE, "bytes": out.stat().st_size, "sha256": musicnn.file_sha256(out),
             "command": COMMAND, "opset": OPSET, "onnx": onnx.__version__, "torch": torch.__version__,
             "onnxruntime": ort.__version__, "inputs": "patches (n, 187, 96) float32 log-mel",
             "outputs": list(musicnn.ORT_OUTPUTS), "parity": parity,
             "date": datetime.date.today().isoformat()}
    card_path = folder / "card.json"
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    card["onnx"] = entry  # merged: every other key of the card stays as it was
    card_path.write_text(json.dumps(card, indent=2))  # as scripts/convert_musicnn.py writes it
    return entry


def measure_parity(name: str, net, path: Path) -> dict:
    """Max absolute differences, ONNX Runtime − PyTorch float32 (same patches) and − the TensorFlow original."""
    from core.backbones import musicnn

    ref = np.load(REFERENCE)
    sess, why = musicnn._open_session(path)
    if sess is None:
        raise SystemExit(f"the export does not open: {why}")
    worst_torch = {k: 0.0 for k in musicnn.ORT_OUTPUTS}
    worst_tf = {"tags": 0.0, "penultimate": 0.0}
    for clip in CLIPS:
        X = ref[f"{clip}_mel"].astype(np.float32)
        o = dict(zip(musicnn.ORT_OUTPUTS, sess.run(None, {"patches": X})))
        t = net.embed(X)  # a from_pretrained net has no onnx_path: PyTorch
        for k in musicnn.ORT_OUTPUTS:
            worst_torch[k] = max(worst_torch[k], float(np.abs(o[k] - t[k]).max()))
        key = f"{clip}_{TF_MODEL[name]}"
        worst_tf["tags"] = max(worst_tf["tags"], float(np.abs(o["tags"] - ref[f"{key}_taggram"]).max()))
        worst_tf["penultimate"] = max(worst_tf["penultimate"],
                                      float(np.abs(o["penultimate"] - ref[f"{key}_penultimate"]).max()))
    return {"max_abs_diff_vs_torch_float32": worst_torch, "max_abs_diff_vs_tensorflow": worst_tf,
            "clips": list(CLIPS), "reference": str(REFERENCE.relative_to(ROOT))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", nargs="+", default=["mtt", "msd"], choices=["mtt", "msd"])
    args = ap.parse_args(argv)
    try:
        import onnx  # noqa: F401
    except ImportError:
        sys.exit("torch.onnx.export needs the onnx package: pip install --target /tmp/onnxlib onnx, "
                 "then PYTHONPATH=/tmp/onnxlib python scripts/export_musicnn_onnx.py")
    for name in args.names:
        e = export(name)
        print(name, json.dumps({k: e[k] for k in ("bytes", "opset", "onnx", "torch", "parity")}, indent=1))


if __name__ == "__main__":
    main()
