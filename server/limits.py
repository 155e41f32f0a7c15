"""Where the app's files are and how much one request may send: defined here once, for the app and every tab."""
from __future__ import annotations

import os
from pathlib import Path

from core.audio import DEFAULT_MAX_SECONDS
from core.training import ASSETS

#: The repository (the folder holding ``assets/``).
ROOT = ASSETS.parent
#: The bundled example recordings the tabs offer (and ``launch(allowed_paths=...)`` serves).
EXAMPLES_DIR = ASSETS / "examples"
#: Upload limit handed to ``launch(max_file_size=...)``; the loaders cap duration too.
MAX_UPLOAD = "50mb"
#: Longest audio any tab analyses; longer uploads are cut to this and the user is told (the engine's default).
MAX_SECONDS = DEFAULT_MAX_SECONDS
#: Where the server keeps what users build (sample libraries and their indexes); the app never reads a library
#: outside it. Set MUSIC_STUDIO_DATA_DIR to put it elsewhere (a mounted volume on a Space).
DATA_DIR = Path(os.environ.get("MUSIC_STUDIO_DATA_DIR", ROOT / "data")).resolve()
#: One folder per sample library; the bundled example is copied here on first use (assets/ stays read-only).
LIBRARY_DIR = DATA_DIR / "libraries"
