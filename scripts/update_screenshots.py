"""Copy the browser tests' screenshots (test-output/, written by ``make test``) to docs/, where the README shows them.

    python scripts/update_screenshots.py

PNG where the page is mostly text and plots with sharp edges, JPEG (quality 85) for long pages.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
#: test-output name → docs name
SHOTS = {
    "analysis_tab.png": "screenshot-analysis.png",
    "genre_tab.png": "screenshot-genre.jpg",
    "instruments_tab.png": "screenshot-instruments.jpg",
    "search_tab.png": "screenshot-search.jpg",
    "effects_tab.png": "screenshot-effects.png",
    "generation_arranged.png": "screenshot-generation.jpg",  # an arranged piece: melody, chords, bass
    "phone_generation.png": "screenshot-phone.jpg",
}


def main() -> int:
    missing = []
    for src, dst in SHOTS.items():
        path = ROOT / "test-output" / src
        if not path.exists():
            missing.append(src)
            continue
        image = Image.open(path)
        out = ROOT / "docs" / dst
        if out.suffix == ".jpg":
            image.convert("RGB").save(out, quality=85, optimize=True)
        else:
            image.save(out, optimize=True)
        print(f"{src} → docs/{dst} ({out.stat().st_size // 1024} KB)")
    if missing:
        print("not found (run make test first):", ", ".join(missing), file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
