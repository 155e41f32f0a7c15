"""Example clips for the Instrument tab, from the corpus rendered with the held-out SoundFont.

    python -m core.data.instruments --out .cache/instruments     # render the corpus first
    python scripts/make_instrument_examples.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from core.data.instruments import CLASSES, SR

SOURCE = ROOT / ".cache" / "instruments" / "MuseScore_General"
OUT = ROOT / "assets" / "examples" / "instruments"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    medley = []
    for label in CLASSES:
        clips = sorted((SOURCE / label).glob("*.wav"))
        y, sr = sf.read(clips[len(clips) // 2], dtype="float32")
        sf.write(OUT / f"{label.replace(' ', '_')}.flac", y, sr)
        if label in ("flute", "violin", "trumpet", "piano", "female singer"):
            pieces = [sf.read(c, dtype="float32")[0] for c in clips[len(clips) // 3: len(clips) // 3 + 2]]
            medley.append(np.concatenate(pieces))
    sf.write(OUT / "medley_flute_singer_piano_trumpet_violin.flac", np.concatenate(medley), SR)
    print(f"wrote {len(list(OUT.glob('*.flac')))} files to {OUT}")


if __name__ == "__main__":
    main()
