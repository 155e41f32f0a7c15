"""Fair use of the heavy workers: no client may fill the queue, and short steps never wait behind long jobs.

Gradio's queue is first-in first-out per concurrency group, with one size limit for everybody: 70 raw POSTs
from one client filled it, and 30 captures from one client put another user's 0.27 s analysis 155 s back.
Two rules fix that:

* **Groups** (:data:`GROUPS`): interactive analyses ("heavy") and long jobs ("long": captures, effect renders,
  folders) have their own workers, so a queue of long jobs never delays an analysis.
* **A per-client cap** (:class:`ClientLimit`): a client (its address, as uvicorn sees it; set
  ``FORWARDED_ALLOW_IPS`` behind a trusted proxy) may have at most :data:`PER_CLIENT` events of those groups
  queued or running. The next one is refused at the door with one message, through the browser, gradio_client
  and raw REST alike: every way into the queue (``/queue/join``, ``/call/<name>``) passes this middleware, and
  the direct routes that skip the queue are closed (``queue(api_open=False)``).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter

from server.gradio_internals import pending_events

log = logging.getLogger("music_studio")

#: Concurrency groups whose events count against a client's cap, with their worker counts on CPU / on a GPU.
#: Three analysis workers against a cap of two per client: one client never holds them all, so another's short
#: analysis starts at once even behind two long ones (torch runs one thread per request).
GROUPS = {"heavy": (3, 1), "long": (2, 1)}
#: Events of those groups one client may have queued or running at once.
PER_CLIENT = 2
#: How long a request over the cap waits for one of the client's events to finish before it is refused.
GRACE_S = 1.0
BUSY = ("You already have {n} jobs queued or running on this server. Wait for one to finish (or stop it) before "
        "starting another, so that other people's work is not stuck behind yours.")


def concurrency(group: str, on_gpu: bool) -> dict:
    """Event options putting a listener in ``group`` (see :data:`GROUPS`)."""
    cpu, gpu = GROUPS[group]
    return {"concurrency_id": group, "concurrency_limit": gpu if on_gpu else cpu}


def client_of(scope_or_request) -> str:
    """The client's address: an ASGI scope's ``client``, or a Starlette/Gradio request's ``client.host``."""
    if isinstance(scope_or_request, dict):
        client = scope_or_request.get("client")
        return client[0] if client else "unknown"
    client = getattr(scope_or_request, "client", None)
    return getattr(client, "host", None) or "unknown"


def pending_by_client(blocks) -> Counter:
    """Events of the capped groups queued or running, per client.

    Gradio has no public view of its queue: :func:`server.gradio_internals.pending_events` reads it, and
    tests/test_gradio_internals.py runs this against a real queue so an upgrade that moves it fails there.
    """
    return Counter(client_of(e.request) for e in pending_events(blocks) or ()
                   if e.concurrency_id in GROUPS)


def _target(blocks, path: str, body: bytes):
    """The BlockFunction a queue request is for, or None when it cannot be told (Gradio then answers itself)."""
    try:
        if path.rstrip("/").endswith("/queue/join"):
            return blocks.fns.get(json.loads(body or b"{}").get("fn_index"))
        name = path.rstrip("/").split("/call/", 1)[1].removeprefix("v2/")
        return next((fn for fn in blocks.fns.values() if fn.api_name == name), None)
    except (ValueError, AttributeError, IndexError, TypeError):
        return None


def _is_join(scope) -> bool:
    path = scope.get("path", "")
    return scope.get("type") == "http" and scope.get("method") == "POST" and (
        path.rstrip("/").endswith("/queue/join") or "/call/" in path)


class ClientLimit:
    """ASGI middleware refusing a client's queue request past :data:`PER_CLIENT` pending heavy events.

    Add through ``launch(app_kwargs={"middleware": [Middleware(ClientLimit)]})``.
    """

    def __init__(self, app, per_client: int = PER_CLIENT):
        self.app, self.per_client = app, per_client
        # Joins admitted but not yet in Gradio's queue: a burst of POSTs all arrive before the first is queued.
        self.joining: Counter = Counter()

    async def __call__(self, scope, receive, send):
        if not _is_join(scope):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:  # the body is read here and handed on unchanged
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        app = scope.get("app")
        blocks = app.get_blocks() if hasattr(app, "get_blocks") else None
        fn = _target(blocks, scope["path"], body) if blocks is not None else None
        client = None
        if fn is not None and fn.concurrency_id in GROUPS:
            client = client_of(scope)
            n = await self._pending_after_grace(blocks, client)
            if n >= self.per_client:
                log.info("refused a queue request from %s: %d heavy events pending", client, n)
                return await _refuse(send, BUSY.format(n=n))
            self.joining[client] += 1  # no await between the last count and this: one event loop, no race
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            return await self.app(scope, replay, send)
        finally:
            if client is not None:
                self.joining[client] -= 1
                if self.joining[client] <= 0:
                    del self.joining[client]


    async def _pending_after_grace(self, blocks, client: str) -> int:
        """The client's pending events, waiting up to :data:`GRACE_S` for them to drop under the cap: Gradio
        answers a call before it forgets the event, so a script's next call could find its last one still there."""
        deadline = time.monotonic() + GRACE_S
        while True:
            n = pending_by_client(blocks)[client] + self.joining[client]
            if n < self.per_client or time.monotonic() >= deadline:
                return n
            await asyncio.sleep(0.05)


async def _refuse(send, message: str) -> None:
    """429 with Gradio's error shape: the page shows ``detail`` as the error, gradio_client raises it."""
    payload = json.dumps({"detail": message, "error": message}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
