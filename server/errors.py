"""One message per failure for the user, the same in the browser and through an API client.

A user's mistake is one ``gr.Error`` and one log line; a bug is logged with its traceback and the user sees
a short apology. Handlers get this through :func:`server.jobs.user_errors`; Gradio's own input checks through
:class:`server.gradio_internals.StudioBlocks`.
"""
from __future__ import annotations

import logging

import gradio as gr

from core.audio import AudioError

log = logging.getLogger("music_studio")


def refuse(message: str, where: str = "") -> gr.Error:
    """The ``gr.Error`` for a user's mistake: one log line, no traceback (those are for bugs)."""
    log.info("refused%s: %s", f" in {where}" if where else "", message)
    return gr.Error(message, print_exception=False)


def to_user_error(err: BaseException, where: str = "") -> gr.Error:
    """Any exception as the one message a user sees (the UI and an API client alike).

    ``AudioError`` and ``ValueError`` carry messages written for users; anything else is a bug: it is logged
    with its traceback on the server and the user sees a short apology naming the error type.
    """
    if isinstance(err, gr.Error):
        if err.print_exception:  # raised by a tab or by Gradio's own checks (choices, minimum): still a user error
            log.info("refused%s: %s", f" in {where}" if where else "", err.message)
            err.print_exception = False
        return err
    if isinstance(err, (AudioError, ValueError)):
        return refuse(str(err), where)
    if isinstance(err, MemoryError):
        return refuse("The input is too large to process in memory; try a shorter excerpt.", where)
    log.error("unexpected error in %s", where or "a handler", exc_info=err)
    return gr.Error(f"Something went wrong ({type(err).__name__}); the server log has the details.",
                    print_exception=False)
