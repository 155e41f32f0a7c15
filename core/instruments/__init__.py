"""Instrument classification: the paper's CNN and a small AST over Medley-solos-DB's eight classes."""
from core.instruments.api import InstrumentResult, load, predict, predict_file, tag_files  # noqa: F401
