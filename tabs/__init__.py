"""One module per tab, in display order. Each exposes ``TITLE`` and ``build()``.

Add a tab: write ``tabs/<name>.py`` with those two names (UI wiring only; the
work happens in ``core``), then append the module name here.
"""
TABS = ("analysis", "genre", "instruments", "search", "library", "effects", "generation")
