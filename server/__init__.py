"""The server runtime around the tabs: what a request may open, how work is shared between clients, and
cleaning up after sessions. Imports gradio; ``core`` never imports this package."""
