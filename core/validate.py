"""Parameter checks every capability shares: one clear ``ValueError`` for None, NaN, text, out of range.

Gradio's components only check what the browser can send; an API client can send anything JSON holds
(``None``, ``NaN``, ``1e30``, a string for a number). Core checks each parameter here, so the UI, the API
and a notebook get the same message.

>>> number(3, "Patience", 1, 50, integer=True)
3
>>> number(float("nan"), "Tempo", 40, 240)
Traceback (most recent call last):
ValueError: Tempo must be a number between 40 and 240; got nan.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

#: Largest seed numpy and torch both take (numpy's is 2**32 - 1).
MAX_SEED = 2**32 - 1


def number(value, name: str, low: float = -math.inf, high: float = math.inf, *, integer: bool = False,
           clamp: bool = False, default=None) -> float | int:
    """``value`` as a float (an int with ``integer``) within ``[low, high]``.

    ``None`` becomes ``default`` when one is given. Out of range raises, or with ``clamp`` is moved to the
    nearest bound (for sliders, whose API range is advisory). Text that reads as a number ("12") is taken.
    """
    if value is None and default is not None:
        value = default
    what = "a whole number" if integer else "a number"
    if math.isfinite(low) or math.isfinite(high):
        what += f" between {_fmt(low)} and {_fmt(high)}"
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be {what}; got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be {what}; got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be {what}; got {value!r}.")
    if integer and v != int(v):
        raise ValueError(f"{name} must be {what}; got {value!r}.")
    if not low <= v <= high:
        if not clamp:
            raise ValueError(f"{name} must be {what}; got {value!r}.")
        v = min(max(v, low), high)
    return int(v) if integer else v


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def seed(value) -> int:
    """A random seed: a whole number from 0 to 2**32 - 1 (None is 0)."""
    return number(value, "Seed", 0, MAX_SEED, integer=True, default=0)


def choice(value, name: str, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options``, else a message listing them."""
    options = list(options)
    if value not in options:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(map(str, options))}.")
    return value
