"""One classifier engine for genre and instruments on the frozen musicnn backbones.

A task (``tasks``: labels, the zero-shot tag mapping, where its data is) plus a head (``heads``: the mapping,
the tag prior, a trained head) make a classifier; ``engine.classify`` runs any of them over a recording the
same way for both tabs. Training, choosing and measuring the heads live here too (``train``, ``prior``,
``evaluate``, ``mixes``); ``core.backbones`` holds only the pretrained encoders.
"""
