"""Convert crema 0.2.0's chord model (Keras 2.2 HDF5 + pumpp pickle) into ``assets/models/chords/crema``.

    /tmp/cremavenv/bin/python scripts/convert_crema.py /tmp/crema/crema-0.2.0-py3-none-any.whl

Runs in the throwaway virtual environment of ``scripts/crema_reference.py`` (it needs h5py, safetensors and
pumpp + scikit-learn < 1.6 to unpickle pump.pkl); the project itself never imports any of those. It writes

- ``model.safetensors``: the weights under the state-dict names of ``core.chords.crema.CremaChordNet``
  (Keras layouts turned into torch's: conv kernels (kh, kw, in, out) → (out, in, kh, kw), dense kernels transposed;
  GRU matrices kept in Keras's layout, gate order z, r, h, which ``KerasGRU`` reads as is),
- ``config.json``: ``{"kind": "crema-chord", "kwargs": {...}}`` — network sizes, the pump's CQT parameters, the
  170 chord tags and the Viterbi self-transition probability,
- ``card.json``: provenance, licence and the crema authors' own test scores (means over their 244 test tracks),
- ``LICENSE.md``: crema's licence text, verbatim from the wheel.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "assets" / "models" / "chords" / "crema"
MEMBER = "crema/models/chord/"


def _bn(f, keras_name: str, torch_name: str) -> dict:
    g = f[f"model_weights/{keras_name}/{keras_name}"]
    return {f"{torch_name}.weight": g["gamma:0"][()], f"{torch_name}.bias": g["beta:0"][()],
            f"{torch_name}.running_mean": g["moving_mean:0"][()],
            f"{torch_name}.running_var": g["moving_variance:0"][()]}


def _dense(f, keras_name: str, torch_name: str) -> dict:
    g = f[f"model_weights/{keras_name}/{keras_name}"]
    return {f"{torch_name}.weight": g["kernel:0"][()].T, f"{torch_name}.bias": g["bias:0"][()]}


def _conv(f, keras_name: str, torch_name: str) -> dict:
    g = f[f"model_weights/{keras_name}/{keras_name}"]
    return {f"{torch_name}.weight": g["kernel:0"][()].transpose(3, 2, 0, 1), f"{torch_name}.bias": g["bias:0"][()]}


def _bigru(f, index: int, torch_name: str) -> dict:
    out = {}
    for direction in ("forward", "backward"):
        g = f[f"model_weights/bidirectional_{index}/bidirectional_{index}/{direction}_gru_{index}"]
        for part in ("kernel", "recurrent_kernel", "bias"):
            out[f"{torch_name}.{direction}.{part}"] = g[f"{part}:0"][()]
    return out


def state_dict(h5_path: Path) -> dict[str, np.ndarray]:
    """Keras layer names (model_spec.pkl) → CremaChordNet's state-dict names, float32, contiguous."""
    import h5py

    with h5py.File(h5_path, "r") as f:
        assert f.attrs["keras_version"] in (b"2.2.2", "2.2.2"), f.attrs["keras_version"]
        sd = {**_bn(f, "batch_normalization_1", "bn_in"), **_conv(f, "conv2d_1", "conv_smooth"),
              **_bn(f, "batch_normalization_2", "bn_smooth"), **_conv(f, "conv2d_2", "conv_freq"),
              **_bn(f, "batch_normalization_3", "bn_freq"), **_bigru(f, 1, "gru1"),
              **_bn(f, "batch_normalization_4", "bn_gru1"), **_bigru(f, 2, "gru2"),
              **_dense(f, "chord_pitch", "head_pitch"), **_dense(f, "chord_root", "head_root"),
              **_dense(f, "chord_bass", "head_bass"), **_bn(f, "batch_normalization_5", "bn_tag"),
              **_dense(f, "chord_tag", "head_tag")}
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def config_from_pump(pump) -> dict:
    """The kwargs of core.chords.crema.CremaConfig, read from the pickled pumpp.Pump."""
    cqt, tag = pump["cqt"], pump["chord_tag"]
    labels = [str(c) for c in tag.encoder.classes_]
    p_self = float(tag.transition[0, 0])
    n = len(labels)
    # crema decodes with a uniform-off-diagonal self-loop matrix (librosa.sequence.transition_loop); check that
    expected = np.full((n, n), (1 - p_self) / (n - 1))
    np.fill_diagonal(expected, p_self)
    assert np.allclose(tag.transition, expected), "transition is not a plain self-loop matrix"
    assert tag.p_init is None and tag.p_state is None
    return {"sr": float(cqt.sr), "hop_length": int(cqt.hop_length), "fmin": float(cqt.fmin),
            "n_octaves": int(cqt.n_octaves), "over_sample": int(cqt.over_sample),
            "harmonics": [int(h) for h in cqt.harmonics], "log": bool(cqt.log),
            "labels": labels, "p_self": p_self}


def network_sizes(sd: dict[str, np.ndarray]) -> dict:
    """The kwargs of CremaConfig that size the network, read off the weights (model_spec.pkl agrees)."""
    return {"conv_size": int(sd["conv_smooth.weight"].shape[-1]), "n_filters": int(sd["conv_freq.weight"].shape[0]),
            "gru_units": int(sd["gru1.forward.recurrent_kernel"].shape[0]),
            "bn_eps": 1e-3}  # Keras's BatchNormalization default, which model_spec.pkl keeps


def published_scores(scores: dict) -> dict:
    """crema's test_scores.json (per-track mir_eval scores) → mean and median per metric, and the track count."""
    out = {}
    for metric, per_track in sorted(scores.items()):
        values = np.array(list(per_track.values()), dtype=float)
        out[metric] = {"mean": round(float(np.nanmean(values)), 4), "median": round(float(np.nanmedian(values)), 4)}
    return {"tracks": len(next(iter(scores.values()))), "metrics": out}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="crema-0.2.0-py3-none-any.whl (pip download crema==0.2.0 --no-deps)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    from safetensors.numpy import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.wheel) as wheel:
        h5 = args.out / "_model.h5"
        h5.write_bytes(wheel.read(MEMBER + "model.h5"))
        try:
            sd = state_dict(h5)
        finally:
            h5.unlink()
        pump = pickle.loads(wheel.read(MEMBER + "pump.pkl"))
        version = wheel.read(MEMBER + "version.txt").decode().strip()
        scores = json.loads(wheel.read(MEMBER + "test_scores.json"))
        licence = wheel.read("crema-0.2.0.dist-info/LICENSE.md").decode()
        metadata = wheel.read("crema-0.2.0.dist-info/METADATA").decode()
    kwargs = {**config_from_pump(pump), **network_sizes(sd)}
    save_file(sd, str(args.out / "model.safetensors"))
    (args.out / "config.json").write_text(json.dumps({"kind": "crema-chord", "kwargs": kwargs}, indent=1) + "\n")
    (args.out / "LICENSE.md").write_text(licence)
    classifier = [line for line in metadata.splitlines() if line.startswith(("License:", "Classifier: License"))]
    card = {
        "name": "chords-crema",
        "task": "chord recognition (170 tags: 12 roots x 14 qualities, N, X) with root, bass and pitch-class heads",
        "source": {"package": "crema==0.2.0 (PyPI)",
                   "wheel_sha256": hashlib.sha256(args.wheel.read_bytes()).hexdigest(),
                   "files": [MEMBER + n for n in ("model.h5", "model_spec.pkl", "pump.pkl", "test_scores.json")],
                   "model_version": version, "url": "https://github.com/bmcfee/crema"},
        "licence": {"text_file": "LICENSE.md (verbatim from the wheel: BSD 2-Clause, (c) 2017 Brian McFee)",
                    "package_metadata": classifier,
                    "note": "the wheel's metadata says ISC, its LICENSE.md is BSD-2-Clause; both are permissive and "
                            "need only the copyright notice and licence text kept, which LICENSE.md does"},
        "authors": "Brian McFee, Juan Pablo Bello: 'Structured training for large-vocabulary chord recognition', "
                   "ISMIR 2017",
        "architecture": "BN → Conv2D 5x5 (1 filter) → BN → Conv2D 1x216 (72) → BN → BiGRU 128 → BN → BiGRU 128 → "
                        "pitch (12, sigmoid) / root (13) / bass (13) heads → concat → BN → 170-way softmax; "
                        "input: 2-harmonic log-CQT, 216 bins (6 octaves from C1, 3 bins per semitone) at 44.1 kHz, "
                        "hop 4096 (10.77 frames/s); Viterbi with self-loop probability p_self",
        "parameters": int(sum(v.size for v in sd.values())),
        "published_test_scores": {**published_scores(scores),
                                  "source": "crema's own test_scores.json (the authors' evaluation, mir_eval chord "
                                            "metrics per track on their held-out split); not measured here"},
        "conversion": "python scripts/convert_crema.py crema-0.2.0-py3-none-any.whl (in a throwaway venv with h5py)",
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {args.out}: {card['parameters']} parameters, "
          f"{(args.out / 'model.safetensors').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
