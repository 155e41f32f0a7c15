"""What a request may name: files only as uploads to this app, models and SoundFonts only by bundled name.

The engine (``core``) opens any path or model folder it is given: that is right for scripts on one's own
machine and wrong for a server. Every endpoint passes what a client sent through these checks first.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from gradio.utils import get_upload_folder

#: One message for every path that is not an upload, whether or not it exists on the server.
NOT_AN_UPLOAD = ("{what}: send a file to this app (from Python: gradio_client.handle_file(path)); "
                 "paths on the server are not read.")


def is_upload(path: str | os.PathLike) -> bool:
    """True when ``path`` lies inside Gradio's upload folder (where files sent to this app land)."""
    root = Path(get_upload_folder()).resolve()
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


def uploaded_path(value, what: str = "The audio") -> str:
    """The local path of a file the client uploaded, or ``ValueError``.

    Accepts what Gradio hands a handler: a ``FileData``, its dict, or (from a component) the cached path.
    A bare string that is not inside the upload folder is refused with the same message whether or not it
    exists, so the answer tells nothing about the server's files.
    """
    if value is None:
        raise ValueError(f"{what}: send a file (from Python: gradio_client.handle_file(path)).")
    if isinstance(value, dict):
        value = value.get("path")
    path = getattr(value, "path", value)
    if not isinstance(path, (str, os.PathLike)) or not str(path) or not is_upload(path):
        raise ValueError(NOT_AN_UPLOAD.format(what=what))
    return str(path)


def one_of(value, allowed: Iterable[str], what: str, default: str | None = None) -> str:
    """``value`` if it is one of the names ``allowed`` (``default`` when None), or one clear ``ValueError``.

    Used for model and SoundFont names: the app loads only what it bundles, never a folder or file a client names.
    """
    allowed = list(allowed)
    if value is None and default is not None:
        return default
    choices = ", ".join(allowed) or "none available"
    if value is None:
        raise ValueError(f"Choose a {what}: one of {choices}.")
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value) if isinstance(value, str) else f"(a {type(value).__name__})"
        raise ValueError(f"Unknown {what} {shown}; choose one of {choices}.")
    return value
