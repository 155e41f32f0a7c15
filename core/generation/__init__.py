"""MIDI generation: an LSTM and a GAN (the LSTM trained against a WGAN-GP critic) on music21's folk corpus, with
baselines and metrics."""
from core.generation.api import MODELS, events_to_midi, generate, load  # noqa: F401
