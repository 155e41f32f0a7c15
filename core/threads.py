"""Thread settings the engine's hot paths share."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor


@functools.cache
def _controller():
    try:
        from threadpoolctl import ThreadpoolController  # scikit-learn's dependency

        return ThreadpoolController()
    except ImportError:  # pragma: no cover
        return None


def one_blas_thread():
    """A context that keeps numpy's BLAS on one thread (same numbers). On small products its workers' hand-offs
    cost more than they give, and its idle workers spin for a while after a call, on the cores the next step is
    about to use: a 3 s clip through musicnn took twice as long after a 2-thread projection, and the true peak of
    3 minutes 4× as long on 2 threads as on one."""
    controller = _controller()
    return controller.limit(limits=1, user_api="blas") if controller is not None else contextlib.nullcontext()


_threads_lock = threading.Lock()
_single_users = 0
_threads_before = 1


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread while any caller is inside, then restore the count.

    An LSTM at batch 1 is thousands of tiny sequential steps: with more than one thread every step pays a thread
    hand-off, and on a busy machine (oneDNN's spinning workers) that made 10 s of audio through an effect's LSTM
    take 80 s instead of 0.6 s. The setting is process-wide, so other requests meanwhile also run on one thread
    (slower at worst, never wrong); a count of users (not a held lock) lets overlapping calls share it.
    """
    import torch

    global _single_users, _threads_before
    with _threads_lock:
        if _single_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _single_users -= 1
            if _single_users == 0:
                torch.set_num_threads(_threads_before)


def side_by_side(*calls):
    """Run the zero-argument ``calls`` at once, the first in this thread, and return their results in order.

    For independent stages that release the GIL (ONNX Runtime, torch, numpy, librosa's kernels): on 2 cores two
    of them take the time of the longer. Each runs in a copy of this context, so a cancelled request stops them
    all (``core.training.check_cancel``)."""
    if len(calls) < 2:
        return [c() for c in calls]
    with ThreadPoolExecutor(len(calls) - 1, thread_name_prefix="side-by-side") as pool:
        others = [pool.submit(contextvars.copy_context().run, c) for c in calls[1:]]
        first = calls[0]()
        return [first] + [f.result() for f in others]
