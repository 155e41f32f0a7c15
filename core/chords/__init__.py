"""Chord recognition: crema's network ported to torch (:mod:`core.chords.crema`) and a chroma-template baseline
(:mod:`core.chords.template`). Labels are Harte / mir_eval strings ("C:maj", "A:min", "N")."""
from core.chords.crema import Chords, Segment, load, recognise

__all__ = ["Chords", "Segment", "load", "recognise"]
