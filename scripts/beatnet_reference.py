"""Reference features and activations from the ORIGINAL BeatNet code, for tests/test_beatnet.py (run once).

BeatNet's own dependencies (madmom 0.16.1, numpy<1.24) stay out of the project: the madmom steps run in a
throwaway venv, the torch step in the project venv with BeatNet's unmodified ``model.py`` from the wheel.

    pip download BeatNet==1.1.3 --no-deps -d /tmp/beatnet && cd /tmp/beatnet && unzip -q BeatNet-*.whl -d whl
    PYENV_VERSION=3.8.18 python3.8 -m venv /tmp/bnvenv
    /tmp/bnvenv/bin/pip install "numpy<1.24" "cython<3" scipy mido
    /tmp/bnvenv/bin/pip install --no-build-isolation madmom==0.16.1
    .venv/bin/python scripts/beatnet_reference.py clips                          # tests/data/beatnet/*.wav
    /tmp/bnvenv/bin/python scripts/beatnet_reference.py features /tmp/beatnet/whl  # madmom: BeatNet's LOG_SPECT
    .venv/bin/python scripts/beatnet_reference.py activations /tmp/beatnet/whl     # BeatNet's BDA class, 3 models
    /tmp/bnvenv/bin/python scripts/beatnet_reference.py dbn /tmp/beatnet/whl        # madmom DBN, as offline mode
    .venv/bin/python scripts/beatnet_reference.py pack                           # tests/data/beatnet/reference.npz

Clips are made by code here (a drum loop with bass at 120 BPM; a quieter 3/4 tone pattern after silence),
written as 16-bit WAV and read back as int16 / 32768 by every step.
"""
from __future__ import annotations

import sys
import types
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "beatnet"
WORK = Path("/tmp/beatnet_ref")
SR = 22_050
FEATURE_STEP = 4  # keep every 4th feature frame in the npz (size); activations are kept whole


def _env(n: int, decay: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (decay * SR))


def drum_loop(seconds: float = 4.0, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, closed hats on eighths, a sine bass on each beat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n + SR)
    beat = 60.0 / bpm
    t = np.arange(int(0.3 * SR)) / SR
    kick = np.sin(2 * np.pi * np.cumsum(50 + 90 * np.exp(-t / 0.03)) / SR) * _env(len(t), 0.12)
    snare = (rng.standard_normal(len(t)) * 0.6 + np.sin(2 * np.pi * 190 * t)) * _env(len(t), 0.06)
    hat = np.diff(rng.standard_normal(len(t) + 1)) * 0.25 * _env(len(t), 0.015)
    bass_notes = [55.0, 55.0, 65.41, 49.0]
    for k in range(int(seconds / beat * 2)):
        s = int(k * beat / 2 * SR)
        y[s:s + len(t)] += hat
        if k % 2 == 0:
            b = k // 2
            y[s:s + len(t)] += kick if b % 2 == 0 else snare
            f = bass_notes[(b // 2) % len(bass_notes)]
            y[s:s + len(t)] += 0.4 * np.sin(2 * np.pi * f * t) * _env(len(t), 0.2)
    y = y[:n]
    return 0.7 * y / np.abs(y).max()


def waltz(seconds: float = 2.0, bpm: float = 150.0, silence: float = 0.3) -> np.ndarray:
    """Plucked tones in 3/4 (low on 1, higher on 2 and 3) after ``silence`` seconds, at -20 dB."""
    n = int(seconds * SR)
    y = np.zeros(n + SR)
    t = np.arange(int(0.4 * SR)) / SR
    beat = 60.0 / bpm
    for k in range(int((seconds - silence) / beat) + 1):
        s = int((silence + k * beat) * SR)
        f = 110.0 if k % 3 == 0 else 330.0
        y[s:s + len(t)] += (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) * _env(len(t), 0.1)
    y = y[:n]
    return 0.1 * y / np.abs(y).max()


CLIPS = {"drumloop_120": drum_loop, "waltz_150": waltz}


def write_wav(path: Path, y: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.round(np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())


def read_wav(path: Path) -> np.ndarray:
    """float32 in [-1, 1): int16 / 32768, as librosa/soundfile read it."""
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def clips() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for name, make in CLIPS.items():
        write_wav(DATA / f"{name}.wav", make())


def _from_wheel(wheel: Path, module: str):
    """Import ``module`` from the unpacked wheel (the original code, never installed in the throwaway venv): its
    folder joins the import path for this run."""
    import importlib
    import site

    site.addsitedir(str(wheel))
    return importlib.import_module(module)


def features(wheel: Path) -> None:
    """BeatNet's LOG_SPECT, unmodified, with the arguments BeatNet.__init__ gives it (madmom)."""
    sys.modules["librosa"] = types.ModuleType("librosa")  # BeatNet/common.py imports it but LOG_SPECT never calls it
    LOG_SPECT = _from_wheel(wheel, "BeatNet.log_spect").LOG_SPECT

    proc = LOG_SPECT(sample_rate=SR, win_length=int(64 * 0.001 * SR), hop_size=int(20 * 0.001 * SR), n_bands=[24],
                     mode="offline")
    WORK.mkdir(exist_ok=True)
    for name in CLIPS:
        feats = proc.process_audio(read_wav(DATA / f"{name}.wav")).T  # (frames, 272), as activation_extractor_online
        np.save(WORK / f"{name}.features.npy", np.asarray(feats, dtype=np.float32))
        print(name, feats.shape, feats.dtype)


def activations(wheel: Path) -> None:
    """BeatNet's BDA class and its loading code, on the madmom features, for each of the 3 checkpoints."""
    import torch

    BDA = _from_wheel(wheel, "BeatNet.model").BDA

    for m in (1, 2, 3):
        model = BDA(272, 150, 2, "cpu")
        model.load_state_dict(torch.load(wheel / "BeatNet" / "models" / f"model_{m}_weights.pt", map_location="cpu"),
                              strict=False)
        model.eval()
        for name in CLIPS:
            model.hidden = torch.zeros(2, 1, 150)  # a fresh instance's state (forward() keeps the last one)
            model.cell = torch.zeros(2, 1, 150)
            feats = torch.from_numpy(np.load(WORK / f"{name}.features.npy")).unsqueeze(0)
            with torch.no_grad():
                preds = model.final_pred(model(feats)[0]).numpy().T  # (frames, 3): beat, downbeat, no beat
            np.save(WORK / f"{name}.act{m}.npy", preds.astype(np.float32))
            print(name, m, preds.shape)


def dbn(wheel: Path) -> None:
    """madmom's DBNDownBeatTrackingProcessor as BeatNet's offline mode builds it, on model 1's activations."""
    from madmom.features import DBNDownBeatTrackingProcessor

    proc = DBNDownBeatTrackingProcessor(beats_per_bar=[2, 3, 4], fps=50)
    for name in CLIPS:
        act = np.load(WORK / f"{name}.act1.npy")[:, :2].astype(np.float64)
        out = proc(act)
        np.save(WORK / f"{name}.dbn1.npy", np.asarray(out, dtype=np.float64).reshape(-1, 2))
        print(name, out)


def pack() -> None:
    arrays = {}
    for name in CLIPS:
        feats = np.load(WORK / f"{name}.features.npy")
        arrays[f"{name}/features"] = feats[::FEATURE_STEP]
        arrays[f"{name}/n_frames"] = np.array(len(feats))
        for m in (1, 2, 3):
            arrays[f"{name}/act{m}"] = np.load(WORK / f"{name}.act{m}.npy")
        arrays[f"{name}/dbn1"] = np.load(WORK / f"{name}.dbn1.npy")
    arrays["feature_step"] = np.array(FEATURE_STEP)
    np.savez_compressed(DATA / "reference.npz", **arrays)


if __name__ == "__main__":
    step = sys.argv[1]
    wheel = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/beatnet/whl")  # the unpacked wheel
    if step in ("clips", "pack"):
        {"clips": clips, "pack": pack}[step]()
    else:
        {"features": features, "activations": activations, "dbn": dbn}[step](wheel)
