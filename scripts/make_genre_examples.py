"""Render one short example clip per genre for the Genre tab (pieces never used in training).

    .venv/bin/python scripts/make_genre_examples.py   # -> assets/examples/genre/<genre>.ogg
"""
from __future__ import annotations

from pathlib import Path

import soundfile as sf

from core.data.arranger import GENRES, arrange, mix
from core.genre.corpus import load_tunes
from core.render import render_midi

OUT = Path(__file__).resolve().parents[1] / "assets" / "examples" / "genre"
SR, SECONDS, SEED = 22_050, 9.0, 5000  # seeds 5000+: outside every corpus split


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tunes = load_tunes()
    for gi, genre in enumerate(GENRES):
        piece = arrange(genre, SEED, tunes[(gi * 400 + SEED) % len(tunes)], seconds=SECONDS)
        r = render_midi(piece.midi, sr=SR, soundfont="FluidR3_GM")
        y = mix(r.audio[: int(SECONDS * SR)], SR, seed=SEED + gi, distortion=genre == "rock")
        path = OUT / f"{genre}_{round(piece.tempo)}bpm.ogg"
        sf.write(str(path), y, SR, format="OGG", subtype="VORBIS", compression_level=0.9)
        print(path.name, path.stat().st_size)


if __name__ == "__main__":
    main()
