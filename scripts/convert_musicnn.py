"""Convert musicnn's TensorFlow taggers (inside its PyPI wheel) into PyTorch safetensors, without TensorFlow.

    python scripts/convert_musicnn.py                      # pip-downloads musicnn==0.1.0 into .cache/wheels
    python scripts/convert_musicnn.py --wheel PATH.whl     # or use a wheel you have

writes ``assets/models/backbones/musicnn-{mtt,msd}/`` (config.json, model.safetensors, card.json, LICENSE.md).
The wheel's sha256 is checked against the one the bundled files were made from.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WHEEL = "musicnn-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
#: reported by the authors (musicnn README / Pons & Serra 2019, "musicnn: pre-trained convolutional neural
#: networks for music audio tagging", ISMIR LBD): ROC-AUC / PR-AUC on each dataset's test set
REPORTED = {"MTT_musicnn": {"roc_auc": 0.9069, "pr_auc": 0.4974, "dataset": "MagnaTagATune (50 tags)"},
            "MSD_musicnn": {"roc_auc": 0.8802, "pr_auc": 0.2844, "dataset": "Million Song Dataset last.fm tags (50)"}}
NAMES = {"MTT_musicnn": "musicnn-mtt", "MSD_musicnn": "musicnn-msd"}


def fetch_wheel(cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / WHEEL
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "musicnn==0.1.0", "--no-deps", "-d", str(cache), "-q"],
                       check=True)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(wheel: Path, out_dir: Path, parity: dict | None = None) -> list[Path]:
    from core.backbones.musicnn import MSD_LABELS, MTT_LABELS, Musicnn, state_dict_from_tf
    from core.backbones.tf_checkpoint import read_checkpoint

    digest = sha256(wheel)
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel} has sha256 {digest}, expected {WHEEL_SHA256} (musicnn 0.1.0 from PyPI)")
    written = []
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as z:
        z.extractall(tmp)
        pkg = Path(tmp) / "musicnn"
        licence = (Path(tmp) / "musicnn-0.1.0.dist-info" / "LICENSE.md").read_text()
        for tf_name, name in NAMES.items():
            labels = MTT_LABELS if tf_name.startswith("MTT") else MSD_LABELS
            net = Musicnn(n_tags=len(labels), labels=labels, source=f"musicnn 0.1.0 wheel, {tf_name}")
            tensors = {k: v for k, v in read_checkpoint(pkg / tf_name).items() if "Adam" not in k}
            missing, unexpected = net.load_state_dict(state_dict_from_tf(tensors), strict=False)
            if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
                raise SystemExit(f"{tf_name}: weights do not fit (missing {missing}, unexpected {unexpected})")
            folder = out_dir / name
            net.eval().save_pretrained(str(folder))
            (folder / "README.md").unlink(missing_ok=True)  # the mixin's template; card.json is the card
            (folder / "LICENSE.md").write_text(licence)
            card = {
                "name": name,
                "task": "music audio tagging (backbone for genre, instruments, tags and search)",
                "architecture": "musicnn (Pons & Serra 2019): musically motivated front end (timbral 7x38/7x67, "
                                "temporal 128/64/32 filters), 3-layer residual 1-D CNN mid end, max+mean pooling, "
                                f"dense 200, dense {len(labels)}; 792k parameters",
                "training_data": f"{REPORTED[tf_name]['dataset']}, trained by the authors; not retrained here",
                "origin": f"PyPI wheel {WHEEL} (sha256 {WHEEL_SHA256}), folder musicnn/{tf_name}/ (TF checkpoint)",
                "licence": "ISC (c) 2019 Jordi Pons, Xavier Serra; see LICENSE.md beside this card",
                "command": "python scripts/convert_musicnn.py",
                "seed": None,
                "metrics": {"reported": {k: v for k, v in REPORTED[tf_name].items() if k != "dataset"}},
                "date": datetime.date.today().isoformat(),
            }
            if parity and tf_name in parity:
                card["metrics"]["parity_vs_tensorflow"] = parity[tf_name]
            (folder / "card.json").write_text(json.dumps(card, indent=2))
            written.append(folder)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, help="musicnn-0.1.0 wheel (default: pip download into .cache/wheels)")
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "models" / "backbones")
    ap.add_argument("--parity", type=Path, default=ROOT / "tests" / "data" / "musicnn" / "reference.npz",
                    help="reference outputs of the TF original: measure the port against them and write it in the card")
    args = ap.parse_args(argv)
    wheel = args.wheel or fetch_wheel(ROOT / ".cache" / "wheels")
    folders = convert(wheel, args.out)
    if args.parity.exists():
        from core.backbones.parity import measure_parity

        parity = {tf: measure_parity(folder, args.parity, tf) for tf, folder in zip(NAMES, folders)}
        convert(wheel, args.out, parity)
        print(json.dumps(parity, indent=2))
    for f in folders:
        print("wrote", f)


if __name__ == "__main__":
    main()
