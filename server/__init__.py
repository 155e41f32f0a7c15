"""The server runtime around the tabs: what a request may open, how work is shared between clients, and
cleaning up after sessions. Imports gradio; ``core`` never imports this package.

limits (paths and caps) · errors (one message per failure) · jobs (how a handler runs: user errors, cancel,
worker groups) · files (per-session outputs and the session ledger) · sessions (per-session objects) · memory
(the memory keeper) · guard (what a request may name) · fairness (per-client cap) · data_api (the /api_*
endpoints) · gradio_internals (every use of Gradio's private internals).
"""
