"""ABX listening test bookkeeping (pure functions over a small dataclass the tab keeps in gr.State).

A = clean, B = the real effect, X = the model output or, on some trials, a hidden reference (a copy of A or
of B). The listener answers "X sounds like A" or "like B". Hidden-reference trials check the listener;
model trials count how often the emulation is heard as the effect.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

HIDDEN_REFERENCE_P = 0.3


@dataclass
class ABXState:
    effect: str | None = None
    current: str | None = None  # "model", "A" or "B": what X is on the open trial
    trials: list = field(default_factory=list)  # (x_is, answer) pairs


def new_trial(state: ABXState, effect: str, rng: random.Random | None = None) -> ABXState:
    """Start a trial (a new effect resets the score)."""
    rng = rng or random.Random()
    trials = state.trials if state.effect == effect else []
    x_is = rng.choice(["A", "B"]) if rng.random() < HIDDEN_REFERENCE_P else "model"
    return ABXState(effect=effect, current=x_is, trials=list(trials))


def answer(state: ABXState, choice: str) -> ABXState:
    if choice not in ("A", "B"):
        raise ValueError("Answer 'A' (X sounds like the clean signal) or 'B' (like the effect).")
    if state.current is None:
        raise ValueError("Start a trial first: press 'New trial'.")
    return ABXState(effect=state.effect, current=None, trials=state.trials + [(state.current, choice)])


def score(state: ABXState) -> dict:
    model = [a for x, a in state.trials if x == "model"]
    hidden = [(x, a) for x, a in state.trials if x != "model"]
    return {
        "trials": len(state.trials),
        "model trials": len(model),
        "model heard as the effect (B)": sum(a == "B" for a in model),
        "hidden-reference trials": len(hidden),
        "hidden references identified": sum(x == a for x, a in hidden),
    }


def summary(state: ABXState) -> str:
    s = score(state)
    if not s["trials"]:
        return "No answers yet."
    lines = [f"{s['trials']} answer(s)."]
    if s["model trials"]:
        lines.append("Model trials: X was heard as the effect "
                     f"{s['model heard as the effect (B)']}/{s['model trials']} times.")
    if s["hidden-reference trials"]:
        lines.append("Hidden references identified correctly: "
                     f"{s['hidden references identified']}/{s['hidden-reference trials']}.")
    return " ".join(lines)
