"""One place that picks the torch device and keeps one shared copy of each model.

``get(key, loader)`` calls ``loader()`` once per key per process, even when many
requests ask at the same moment; later calls return the cached object.
"""
from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_models: dict[str, Any] = {}
_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()
_device_override: str | None = os.environ.get("MUSIC_STUDIO_DEVICE") or None


def set_device(name: str | None) -> None:
    """Force a device ("cpu", "cuda", "cuda:1"); None goes back to automatic."""
    global _device_override
    if name is not None:
        import torch

        torch.device(name)  # raises on a malformed name
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but torch sees no CUDA GPU.")
    _device_override = name
    device.cache_clear()


@functools.cache
def device():
    """CUDA when torch sees a GPU (or the override), else CPU."""
    import torch

    if _device_override:
        return torch.device(_device_override)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def get(key: str, loader: Callable[[], T]) -> T:
    """Return the cached object for ``key``, creating it with ``loader`` exactly once."""
    try:
        return _models[key]
    except KeyError:
        pass
    with _registry_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # per key: loading one model never blocks requests for another
        if key not in _models:
            _models[key] = loader()
        return _models[key]


def loaded() -> list[str]:
    """Keys of the models loaded so far (for the bench and the footer)."""
    return sorted(_models)


def clear() -> None:
    """Drop every cached model (tests; freeing memory)."""
    with _registry_lock:
        _models.clear()
        _locks.clear()


def gpu(fn: Callable | None = None, *, duration: int = 60):
    """Mark a GPU-bound function: ``spaces.GPU`` on a ZeroGPU Space, a no-op elsewhere."""

    def wrap(f):
        if os.environ.get("SPACES_ZERO_GPU"):
            try:
                import spaces

                return spaces.GPU(duration=duration)(f)
            except ImportError:
                pass
        return f

    return wrap(fn) if fn is not None else wrap
