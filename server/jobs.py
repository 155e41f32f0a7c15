"""How a handler runs: its errors as one message, its work cancellable, its share of the workers.

* :func:`user_errors` wraps every handler: bad input is one ``gr.Error`` (:mod:`server.errors`), and the
  request is noted in the session ledger (:func:`server.files.note_request`).
* :func:`cancellable`, :func:`in_background` and :func:`api_job` run the work in a thread of its own that
  stops when the request is cancelled (Stop, a closed tab, a client that went away).
* :func:`heavy` and :func:`long_job` are event options: the shared worker groups (:mod:`server.fairness`),
  and for long jobs at most one queued or running per session.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import queue
import threading
import time

import gradio as gr

from core import registry
from core.training import cancel_scope, check_cancel
from server.errors import to_user_error
from server.fairness import concurrency
from server.files import note_request
from server.gradio_internals import blocks_of, on_event_start, pending_events
from server.memory import trim

log = logging.getLogger("music_studio")


def user_errors(fn):
    """Show bad input as one ``gr.Error`` message, and never a traceback (see :func:`server.errors.to_user_error`).

    Each call is noted in the session ledger (:func:`server.files.note_request`): its uploads go with the session.
    """

    if inspect.isgeneratorfunction(fn):  # errors of a generator surface while it is iterated
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            note_request(args)
            try:
                return (yield from fn(*args, **kwargs))
            except Exception as err:
                raise to_user_error(err, fn.__name__) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        note_request(args)
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            raise to_user_error(err, fn.__name__) from None

    return wrapper


# --- long jobs: at most one queued or running per session --------------------------------------

#: Seconds a validated long job may take to appear in the queue (validation and queueing are one step).
_RESERVE_S = 2.0
_reserved: dict[str, float] = {}
_reserved_lock = threading.Lock()

LONG_JOB_BUSY = ("You already have a long job (a capture, a batch of files or an effect) queued or running. "
                 "Wait for it to finish, or stop it, before starting another.")


def _long_job_running(events, session: str) -> bool:
    return any(e.session_hash == session and getattr(e.validator, "long_job", False) for e in events)


def one_long_job(fn):
    """A Gradio validator for ``fn`` (a long job) that refuses a second long job from the same session.

    Validators run when an event is queued, before it waits for a worker, so a flood of captures from one
    client is refused at the door instead of filling the queue for everyone. The answer goes to the browser
    and to API clients alike.
    """
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not isinstance(p.default, gr.Progress)]

    def validator(*args):
        request = args[-1]
        session = getattr(request, "session_hash", None)
        events = pending_events(blocks_of(request))
        ok = [gr.validate(True, "") for _ in params]
        if not session or events is None:
            return _answer(ok)
        now = time.monotonic()
        with _reserved_lock:
            for s, t in list(_reserved.items()):
                if now - t > _RESERVE_S:
                    del _reserved[s]
            busy = session in _reserved or _long_job_running(events, session)
            if not busy:
                _reserved[session] = now
        if busy:
            log.info("refused a second long job (%s) from one session", fn.__name__)
            return _answer([gr.validate(False, LONG_JOB_BUSY)] + ok[1:])
        return _answer(ok)

    validator.__signature__ = inspect.Signature(
        [p.replace(default=inspect.Parameter.empty, annotation=inspect.Parameter.empty) for p in params]
        + [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)])
    validator.__annotations__ = {"request": gr.Request}
    validator.long_job = True
    return validator


def _answer(checks: list[dict]):
    """A validator's answer: one check per input, or for a single input the check itself (Gradio wraps a
    single output's value in a list, and would read a one-item list as no check at all)."""
    return checks[0] if len(checks) == 1 else checks


@on_event_start
def _started(session: str | None) -> None:
    """An event of ``session`` is being run: its long-job reservation is no longer needed (the queue shows it)."""
    if session:
        with _reserved_lock:
            _reserved.pop(session, None)


def long_job(fn) -> dict:
    """Event options for a long job: the long-job group (its own workers) plus the one-per-session validator."""
    return {**concurrency("long", registry.device().type == "cuda"), "validator": one_long_job(fn)}


def heavy() -> dict:
    """Event options for CPU/GPU-bound interactive handlers: one limit shared by all of them.

    Gradio's concurrency limit applies per event listener unless listeners share a ``concurrency_id``; without
    this, a 2-core machine ran up to ten heavy jobs at once. Three at a time on CPU (one more than a client may
    hold), one per GPU. Short interactive steps (search answers, ABX, stop) do not use it, so they never wait
    behind long jobs; long jobs (:func:`long_job`) have their own group, so analyses never wait behind captures.
    """
    return concurrency("heavy", registry.device().type == "cuda")


# --- work that stops when the user (or an API client) cancels ----------------------------------

class _Job:
    """One request's work in a thread of its own, inside a :func:`~core.training.cancel_scope`: :meth:`close`
    (the request went) sets the cancel that the work checks, and the log says how long it took to stop."""

    def __init__(self, name: str, run, on_end=lambda: None):
        self.name, self.stop, self.error, self.result, self.closed_at = name, threading.Event(), None, None, None
        context = contextvars.copy_context()  # the request's context: its session folder, progress bar, toasts

        def scoped():
            with cancel_scope(self.stop.is_set):  # inside the request's context, where the engine looks
                return run(self.stop.is_set)

        def target():
            try:
                self.result = context.run(scoped)
            except BaseException as err:  # handed to the request thread
                self.error = err
            finally:
                if self.closed_at is not None:
                    log.info("%s stopped %.2f s after its request was closed", name, time.monotonic() - self.closed_at)
                trim()  # before the request answers: its arrays' pages go back before the next upload is read
                on_end()

        self.thread = threading.Thread(target=target, daemon=True, name=f"studio-{name}")
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():  # closed early: the request was cancelled or its client went away
            self.closed_at = time.monotonic()
            log.info("cancelled: %s", self.name)
        self.stop.set()

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


def in_background(work, progress=None, desc: str = "Working", busy=lambda msg: msg):
    """Run ``work(cancel, report)`` in a thread; a generator that yields while it runs and returns its result.

    Gradio cannot stop a plain function's thread when a request is cancelled, so a cancelled client's long
    effect ran to the end. Handlers written as generators are closed on cancel: the ``finally`` below then sets
    ``cancel``, which the work checks between chunks (``core.training.Cancelled``). ``report(fraction, message)``
    feeds the progress bar; ``busy(message)`` is what the handler yields meanwhile (its outputs, mostly
    ``gr.skip()``). Use as ``result = yield from in_background(...)``.
    """
    status = {"frac": 0.0, "msg": desc}
    job = _Job(desc, lambda cancel: work(cancel, lambda f, m: status.update(frac=f, msg=m)))
    try:
        while job.thread.is_alive():
            if progress is not None:
                progress(status["frac"], desc=status["msg"])
            yield busy(status["msg"])
            job.thread.join(0.5)
    finally:
        job.close()  # cancelled (generator closed) or an error: end the work too
    return job.outcome()


_END = object()


def cancellable(fn):
    """A heavy UI handler (a function or a generator) whose work stops when its request is cancelled.

    Gradio can close a generator that is waiting at a ``yield``, not a function busy in its thread: a
    cancelled 20-minute analysis ran on for 44 s. So the handler runs in a worker thread (:class:`_Job`),
    while this generator relays what it yields and otherwise yields ``gr.skip()`` twice a second; closing it
    (Stop, a closed tab, a cancelled call) sets the job's cancel, which the engine's loops check within a batch.
    Put it under ``@user_errors``.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        outbox: queue.SimpleQueue = queue.SimpleQueue()

        def run(cancel):
            out = fn(*args, **kwargs)
            for item in out if inspect.isgenerator(out) else [out]:
                outbox.put(item)
                check_cancel()

        job = _Job(fn.__name__, run, on_end=lambda: outbox.put(_END))
        try:
            while (item := _next(outbox)) is not _END:
                yield item
        finally:
            job.close()
        job.outcome()

    return wrapper


def _next(outbox: queue.SimpleQueue):
    """The next thing a job yielded, or ``gr.skip()`` after half a second (so that a cancel can close us)."""
    try:
        return outbox.get(timeout=0.5)
    except queue.Empty:
        return gr.skip()


def api_job(work, desc: str = "Working"):
    """A JSON endpoint's body as a cancellable job: yields ``{"progress": fraction, "message": ...}`` while
    ``work(cancel, report)`` runs, then its result. A client's cancel or disconnect closes the generator,
    which stops the work at its next check (within a batch). Use as ``yield from api_job(...)``."""
    note_request(api=True)
    done = {"fraction": 0.0}
    result = yield from in_background(work, lambda f, desc=None: done.update(fraction=f), desc,
                                      busy=lambda msg: {"progress": round(float(done["fraction"]), 3), "message": msg})
    yield result
