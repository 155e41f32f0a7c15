"""Thread settings the engine's hot paths share."""
from __future__ import annotations

import contextlib
import functools


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
