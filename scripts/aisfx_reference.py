"""Reference outputs of the original aiSFX for the port's parity test (``tests/data/aisfx/reference.npz``). Run once:

    pip download aisfx==0.1.2 --no-deps -d /tmp/aisfx && unzip -q /tmp/aisfx/aisfx-*.whl -d /tmp/aisfx/wheel
    python scripts/aisfx_reference.py clips                        # the clips, made by code (project venv)
    python3 -m venv /tmp/aisfx/venv && /tmp/aisfx/venv/bin/pip install essentia numpy
    /tmp/aisfx/venv/bin/python scripts/aisfx_reference.py spectrograms /tmp/aisfx/wheel   # the package's essentia
    python scripts/aisfx_reference.py embeddings /tmp/aisfx/wheel  # the package's own inference code (needs torch)

The package's spectrogram code needs essentia (not in the project); its inference code needs torch (not in the
throwaway venv): each half runs where its dependency is, from the unpacked wheel, never installed.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import site
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "aisfx"
SR = 44_100


def make_clips() -> dict[str, np.ndarray]:
    """A 4 s drum-like pattern (noise bursts and a decaying tone: two blocks) and a 0.8 s blip (under one)."""
    rng = np.random.default_rng(7)
    t = np.arange(4 * SR) / SR
    y = 0.3 * np.sin(2 * np.pi * 110 * t) * np.exp(-2 * (t % 0.75))
    for start in np.arange(0, 4, 0.375):
        i = int(start * SR)
        n = int(0.05 * SR)
        y[i:i + n] += 0.4 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.01 * SR))
    tb = np.arange(int(0.8 * SR)) / SR
    blip = 0.5 * np.sin(2 * np.pi * 880 * tb) * np.exp(-6 * tb)
    return {"pattern": y.astype(np.float32), "blip": blip.astype(np.float32)}


def clips() -> None:
    import soundfile as sf

    DATA.mkdir(parents=True, exist_ok=True)
    for name, y in make_clips().items():
        sf.write(DATA / f"{name}.flac", y, SR, subtype="PCM_16")


def spectrograms(wheel: Path) -> None:
    path = wheel / "aisfx" / "spectrogram" / "spectrogram_essentia.py"
    spec = importlib.util.spec_from_file_location("spectrogram_essentia", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in make_clips():
        s = module.compute_spectrogram(filename=str(DATA / f"{name}.flac"), sr=44100.0, block_size=2048,
                                       hop_size=1024, n_mels=96, f_min=0.0, f_max=22050.0)
        np.save(DATA / f"{name}.essentia.npy", np.asarray(s, np.float32))


def embeddings(wheel: Path) -> None:
    import torch

    site.addsitedir(str(wheel))  # the unpacked wheel's package, for this run only
    inference = importlib.import_module("aisfx.inference")
    weights, datasets = torch.load(inference.get_path_modelWeights(), map_location="cpu", weights_only=False)
    model = inference.load_bestModel(weights, datasets, "cpu")
    out = {}
    for name in make_clips():
        ess = np.load(DATA / f"{name}.essentia.npy")
        norm = inference.spectrogram_normalize(ess, spec_norm="original")
        blocks_ok = norm.shape[0] > 100  # the package asserts on clips under one block (the port pads them)
        out[f"{name}_spectrogram"] = ess
        if blocks_ok:
            out[f"{name}_embeddings"] = inference.model_get_embedding(norm, 0.5, True, model, "cpu").numpy()
    np.savez_compressed(DATA / "reference.npz", **out)
    for name in make_clips():
        (DATA / f"{name}.essentia.npy").unlink()
    print({k: v.shape for k, v in out.items()})


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=("clips", "spectrograms", "embeddings"))
    p.add_argument("wheel", type=Path, nargs="?", help="the unpacked wheel (spectrograms, embeddings)")
    args = p.parse_args(argv)
    {"clips": lambda: clips(), "spectrograms": lambda: spectrograms(args.wheel),
     "embeddings": lambda: embeddings(args.wheel)}[args.step]()


if __name__ == "__main__":
    main()
