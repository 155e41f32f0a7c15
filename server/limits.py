"""Where the app's files are and how much one request may send: defined here once, for the app and every tab."""
from __future__ import annotations

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
