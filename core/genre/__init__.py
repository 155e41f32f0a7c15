"""Genre detection (paper: genre-detection.txt): the paper's networks, training, whole-song prediction."""
from core.genre.api import GenreModel, GenrePrediction, bundled_models, hub_model, load, predict_file

__all__ = ["GenreModel", "GenrePrediction", "bundled_models", "hub_model", "load", "predict_file"]
