"""The generation tab's primer example: a held-out folk tune's first bars played on a flute, rendered here.

    python scripts/make_primer_example.py      # writes assets/examples/generation/primer_flute_melody.ogg

It stands in for a microphone: "Hum or play a primer" transcribes it (core.generation.transcribe) and the
LSTM continues it. The tune is one of the held-out tunes the models never trained on.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import soundfile as sf

from core.generation.api import _trim, events_to_midi, reference_tunes
from core.render import render_midi

OUT = ROOT / "assets" / "examples" / "generation" / "primer_flute_melody.ogg"


def main() -> None:
    tune = reference_tunes()[1]
    pm = events_to_midi(_trim([tuple(e) for e in tune["events"]], 12.0), tempo=100, program=73)
    audio = render_midi(pm, sr=22_050, soundfont="FluidR3_GM").audio * 0.8
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT, audio, 22_050, format="OGG", subtype="VORBIS")
    print(f"{OUT.relative_to(ROOT)}: {tune['title']}, {len(pm.instruments[0].notes)} notes, "
          f"{len(audio) / 22_050:.1f} s")


if __name__ == "__main__":
    main()
