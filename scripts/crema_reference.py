"""Reference outputs of the ORIGINAL crema 0.2.0 chord model, for the parity test of ``core.chords.crema``.

Run once, in a throwaway virtual environment that holds crema and its (old) dependencies — never in the project's:

    python3.11 -m venv /tmp/cremavenv
    /tmp/cremavenv/bin/pip install tensorflow-cpu==2.15.1 "numpy<2" scikit-learn==1.3.2 librosa==0.10.2.post1 \\
        pumpp==0.6.0 jams mir_eval h5py six
    /tmp/cremavenv/bin/pip install --no-deps crema==0.2.0
    /tmp/cremavenv/bin/python scripts/crema_reference.py tests/data/crema/reference.npz

(scikit-learn must be < 1.6: crema's pump.pkl holds a pickled LabelEncoder that newer releases cannot use.)

The clip is made here by code — a C–F–G–C progression of additively synthesised piano-like block chords — and
stored in the .npz as 16-bit PCM so that the test feeds our port exactly the samples crema saw.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

#: the clip: sample rate (Hz), seconds per chord, and the progression as (root MIDI note, chord MIDI notes)
CLIP_SR = 16_000
CHORD_SECONDS = 1.5
PROGRESSION = (("C:maj", (48, 60, 64, 67)), ("F:maj", (41, 60, 65, 69)), ("G:maj", (43, 59, 62, 67)),
               ("C:maj", (48, 60, 64, 67)))
#: partial amplitudes 1/k and a piano-ish exponential decay (1/s)
N_PARTIALS = 6
DECAY_PER_S = 1.5


def midi_hz(note: int) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def render_progression(sr: int = CLIP_SR) -> np.ndarray:
    """int16 PCM (samples,) of PROGRESSION, each chord CHORD_SECONDS long; deterministic."""
    n = int(round(CHORD_SECONDS * sr))
    t = np.arange(n) / sr
    envelope = np.exp(-DECAY_PER_S * t) * np.minimum(1.0, t / 0.005)  # 5 ms attack: no click
    blocks = []
    for _, notes in PROGRESSION:
        block = np.zeros(n)
        for note in notes:
            f0 = midi_hz(note)
            for k in range(1, N_PARTIALS + 1):
                if k * f0 < sr / 2:
                    block += np.sin(2 * np.pi * k * f0 * t) / k
        blocks.append(block * envelope)
    y = np.concatenate(blocks)
    return np.round(y / np.abs(y).max() * 0.5 * 32767).astype(np.int16)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)

    import crema
    import keras
    import librosa
    import pumpp
    import tensorflow as tf

    model = crema.models.chord.ChordModel()
    pcm = render_progression()
    y = pcm.astype(np.float32) / 32768.0
    features = model.pump.transform(y=y, sr=CLIP_SR)["cqt/mag"][0]  # (frames, 216, 2) dB
    outputs = model.outputs(y=y, sr=CLIP_SR)
    ann = model.predict(y=y, sr=CLIP_SR)
    tag_only = model.pump["chord_tag"].inverse(outputs["chord_tag"])
    seg = ann.to_dataframe()
    tag = tag_only.to_dataframe()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out, pcm=pcm, sr=CLIP_SR, features=features.astype(np.float32),
        chord_tag=outputs["chord_tag"], chord_pitch=outputs["chord_pitch"], chord_root=outputs["chord_root"],
        chord_bass=outputs["chord_bass"],
        seg_start=seg["time"].to_numpy(float), seg_duration=seg["duration"].to_numpy(float),
        seg_label=seg["value"].to_numpy(str), seg_confidence=seg["confidence"].to_numpy(float),
        tag_start=tag["time"].to_numpy(float), tag_label=tag["value"].to_numpy(str),
        progression=np.array([label for label, _ in PROGRESSION]),
        versions=np.array([f"crema {crema.version.version}", f"tensorflow {tf.__version__}",
                           f"keras {keras.__version__}", f"librosa {librosa.__version__}",
                           f"pumpp {pumpp.__version__}", f"numpy {np.__version__}"]))
    print(seg)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
