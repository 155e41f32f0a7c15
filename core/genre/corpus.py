"""Render the bundled genre corpus: the arranger's pieces through several SoundFonts.

    python -m core.genre.corpus --out .cache/genre --pieces 60 --seconds 21

writes folder-per-genre datasets (the layout ``core.genre.train --data`` reads):

- ``<out>/corpus/<genre>/<genre>_<seed>__<font>.flac``: every piece through each training
  SoundFont (FluidR3_GM, TimGM6mb). Files sharing the part before ``__`` are one track,
  so the train/val/test split never puts two renders of one piece on both sides.
- ``<out>/heldout_font/...``: new pieces through the held-out SoundFont (MuseScore General
  where installed, else TimGM6mb is held out and only FluidR3_GM trains).
- ``<out>/equal_tempo/...`` and ``<out>/equal_tempo_test/...``: pieces whose tempo is drawn
  from one range shared by all genres (the tempo-equalised ablation).
"""
from __future__ import annotations

import argparse
import glob
import json
import logging
import time
import zlib
from pathlib import Path

from core.data.arranger import EQUAL_TEMPO, GENRES, arrange, load_chorales, mix
from core.render import render_midi, soundfonts

log = logging.getLogger(__name__)
SR = 22_050


def pick_fonts() -> tuple[list[str], str]:
    """(training SoundFonts, held-out SoundFont)."""
    fonts = soundfonts()
    if "MuseScore_General" in fonts:
        return [f for f in ("FluidR3_GM", "TimGM6mb") if f in fonts], "MuseScore_General"
    return [f for f in ("FluidR3_GM",) if f in fonts] or ["TimGM6mb"], "TimGM6mb"


def load_tunes() -> list:
    from core.data.corpus import CACHE_DIR, load_folk_corpus

    cached = sorted(glob.glob(str(CACHE_DIR / "folk_*.json")))
    if cached:  # whichever collection set the generation tab cached: parsing again takes minutes
        return [t["events"] for t in json.loads(Path(cached[0]).read_text())]
    return [t.events for t in load_folk_corpus()]


def render_set(out: Path, seeds, fonts, tunes, chorales, chorale_offset=0, tempo_range=None, seconds=21.0,
               progress=True):
    import soundfile as sf

    out.mkdir(parents=True, exist_ok=True)
    meta = []
    t0 = time.time()
    for gi, genre in enumerate(GENRES):
        (out / genre).mkdir(exist_ok=True)
        for k, seed in enumerate(seeds):
            tune = tunes[(gi * 400 + seed) % len(tunes)]  # a distinct folk tune per piece
            chorale = None
            if genre == "classical" and seed % 2 == 0 and chorales:
                idx = chorale_offset + k // 2
                chorale = chorales[idx] if idx < len(chorales) else None
            piece = arrange(genre, seed, tune, seconds=seconds, tempo_range=tempo_range, chorale=chorale)
            if piece.midi.get_end_time() < seconds / 2:  # a chorale that parsed oddly: arrange one instead
                piece = arrange(genre, seed, tune, seconds=seconds, tempo_range=tempo_range)
            for font in fonts:
                path = out / genre / f"{genre}_{seed:04d}__{font}.flac"
                if path.exists():
                    continue
                r = render_midi(piece.midi, sr=SR, soundfont=font)
                y = mix(r.audio[: int(seconds * SR)], SR, seed=zlib.crc32(path.name.encode()),
                        distortion=genre == "rock")
                sf.write(str(path), y, SR)
            meta.append({"genre": genre, "seed": seed, "tempo": round(piece.tempo, 1), "meter": piece.meter,
                         "tune": piece.tune, "instruments": piece.instruments})
        if progress:
            log.info("%s: %s done (%.0f s)", out.name, genre, time.time() - t0)
    (out / "pieces.json").write_text(json.dumps(meta, indent=1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".cache/genre")
    p.add_argument("--pieces", type=int, default=60, help="pieces per genre in the main corpus")
    p.add_argument("--heldout", type=int, default=12, help="pieces per genre for the held-out SoundFont")
    p.add_argument("--ablation", type=int, default=40, help="pieces per genre, tempo-equalised (0: skip)")
    p.add_argument("--seconds", type=float, default=21.0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = Path(args.out)
    train_fonts, heldout_font = pick_fonts()
    log.info("training SoundFonts %s, held out %s", train_fonts, heldout_font)
    tunes = load_tunes()
    chorales = load_chorales(args.pieces // 2 + args.heldout // 2 + 2)
    log.info("%d tunes, %d chorales", len(tunes), len(chorales))
    render_set(out / "corpus", range(args.pieces), train_fonts, tunes, chorales, seconds=args.seconds)
    render_set(out / "heldout_font", range(1000, 1000 + args.heldout), [heldout_font], tunes, chorales,
               chorale_offset=args.pieces // 2, seconds=args.seconds)
    if args.ablation:
        n_test = max(2, args.ablation // 4)
        render_set(out / "equal_tempo", range(2000, 2000 + args.ablation), train_fonts[:1], tunes, [],
                   tempo_range=EQUAL_TEMPO, seconds=args.seconds)
        render_set(out / "equal_tempo_test", range(3000, 3000 + n_test), train_fonts[:1], tunes, [],
                   tempo_range=EQUAL_TEMPO, seconds=args.seconds)


if __name__ == "__main__":
    main()
