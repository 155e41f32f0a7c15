"""Corpora and generators shared by several tabs."""
