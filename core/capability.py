"""What a capability provides, written once; every capability registers itself, and a test checks them all.

    from core.capability import REGISTRY, discover
    discover()                                    # imports every capability package (each registers itself)
    genre = REGISTRY["genre"]
    result = genre.run("song.flac")               # the capability's result dataclass
    result.to_dict()                              # what the API returns and the tests assert on

A capability is one package in ``core/`` that provides:

- ``load(name_or_path)``: a model by bundled name or folder, rebuilt from the ``config.json`` beside its
  weights (``kind`` says which class reads it), loaded once per process (``core.registry``);
- one ``run`` call returning one result dataclass with ``to_dict()``;
- its bundled models (``assets/models/<name>/<model>/``: ``config.json`` + ``card.json``, written by code);
- its labels (where it classifies), its examples, and the command that measures it and writes the cards.

``problems(capability)`` lists what a package lacks, in words its author can act on; ``tests/test_contract.py``
runs it on every registered capability.
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: the capability packages, in the app's order; each registers itself when imported
MODULES = ("core.analysis", "core.genre.api", "core.instruments.api", "core.search.api", "core.library.search",
           "core.effects.api", "core.generation.api")


@dataclass(frozen=True)
class Capability:
    name: str
    run: Callable  # the one call: input → result dataclass
    result: type  # the result type: a dataclass, or a session object, with ``to_dict()``
    load: Callable | None = None  # load(name_or_path) → model; None for a capability without models
    models_dir: Path | None = None  # assets/models/<name>
    default_model: str | None = None
    bundled: Callable[[], list[str]] = list  # names of the bundled models
    labels: tuple[str, ...] = ()  # the classes, where it classifies
    examples: tuple[Path, ...] = ()  # example inputs shipped in assets/examples
    evaluate: str = ""  # the command that measures it and writes its cards
    extra: dict = field(default_factory=dict)


REGISTRY: dict[str, Capability] = {}


def register(capability: Capability) -> Capability:
    """Add (or replace, on reload) a capability; returns it so a module can keep it as ``CAPABILITY``."""
    REGISTRY[capability.name] = capability
    return capability


def discover() -> dict[str, Capability]:
    """Import every capability package so each registers itself; the registry, in the app's order."""
    for module in MODULES:
        importlib.import_module(module)  # a plugin list by name: no capability is imported by this module
    order = [m.split(".")[1] for m in MODULES]  # "core.genre.api" → "genre"
    return {n: REGISTRY[n] for n in order if n in REGISTRY}


def problems(capability: Capability, load_models: bool = True) -> list[str]:
    """What ``capability`` lacks against the contract, one sentence each (empty when it holds)."""
    out = []
    name = capability.name
    if not callable(getattr(capability.result, "to_dict", None)):
        out.append(f"{name}: its result type {capability.result.__name__} has no to_dict() (the API returns it).")
    if not callable(capability.run):
        out.append(f"{name}: run is not callable.")
    if not capability.evaluate:
        out.append(f"{name}: no evaluate command (how its figures and cards are written).")
    for example in capability.examples:
        if not Path(example).exists():
            out.append(f"{name}: example {example} is missing.")
    if capability.load is None:
        return out
    if capability.models_dir is None or not Path(capability.models_dir).is_dir():
        out.append(f"{name}: models_dir {capability.models_dir} is not a folder.")
        return out
    names = list(capability.bundled())
    if capability.default_model not in names:
        out.append(f"{name}: the default model {capability.default_model!r} is not among the bundled ones {names}.")
    for model in names:
        folder = Path(capability.models_dir) / model
        config = folder / "config.json"
        if not config.exists():
            out.append(f"{name}/{model}: no config.json (load() rebuilds a model from it).")
            continue
        if "kind" not in json.loads(config.read_text()):
            out.append(f"{name}/{model}: config.json has no 'kind' (which class reads it).")
        if not (folder / "card.json").exists():
            out.append(f"{name}/{model}: no card.json (data, command, seed, metrics).")
        if load_models:
            try:
                capability.load(model)
            except Exception as err:  # the contract reports, it does not stop at the first failure
                out.append(f"{name}/{model}: load() failed: {type(err).__name__}: {err}")
    if capability.labels and len(set(capability.labels)) != len(capability.labels):
        out.append(f"{name}: its labels repeat.")
    return out
