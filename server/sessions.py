"""Per-session objects for endpoints that cannot hold a ``gr.State``, bounded and dropped when a session ends."""
from __future__ import annotations

import threading
import time


class SessionStore:
    """Per-session objects for endpoints that cannot hold a ``gr.State`` (``gr.api``), keyed by Gradio's
    session hash, which gradio_client keeps for the life of a ``Client``.

    Bounded: an entry goes when its session ends (:func:`server.files.release_session`), ``ttl_s`` after its
    last use, or, past ``max_sessions``, the least recently used one idle for over ``in_use_s``. An entry used
    more recently than that is never evicted by other sessions: a new session is refused instead, with a clear
    message.
    """

    def __init__(self, ttl_s: float = 3600.0, max_sessions: int = 16, in_use_s: float = 600.0,
                 what: str = "sessions"):
        self.ttl_s, self.max_sessions, self.in_use_s, self.what = ttl_s, max_sessions, in_use_s, what
        self._items: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        for key in [k for k, (t, _) in self._items.items() if now - t > self.ttl_s]:
            del self._items[key]

    def _make_room(self, now: float) -> None:
        while len(self._items) >= self.max_sessions:
            oldest = min(self._items, key=lambda k: self._items[k][0])
            if now - self._items[oldest][0] <= self.in_use_s:
                raise ValueError(f"The server is holding {len(self._items)} {self.what} that are in use; "
                                 f"try again in a few minutes.")
            del self._items[oldest]

    def get(self, session: str | None):
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if session not in self._items:
                return None
            _, value = self._items[session]
            self._items[session] = (now, value)
            return value

    def put(self, session: str | None, value) -> None:
        if not session:
            raise ValueError("This endpoint needs a session: call it through gradio_client or the browser.")
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            self._items.pop(session, None)  # the old value goes before the new one counts
            self._make_room(now)
            self._items[session] = (now, value)

    def pop(self, session: str | None) -> None:
        with self._lock:
            self._items.pop(session, None)

    def __len__(self) -> int:
        return len(self._items)


#: Every store whose entries :func:`server.files.release` drops when a session ends.
SESSION_STORES: list[SessionStore] = []


def session_store(**kwargs) -> SessionStore:
    """A :class:`SessionStore` that is emptied of a session's entry when that session is released."""
    store = SessionStore(**kwargs)
    SESSION_STORES.append(store)
    return store
