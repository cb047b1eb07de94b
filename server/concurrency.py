"""At most REQUEST_CONCURRENCY ordinary requests run the app at once in a process; the rest queue.

A gthread worker needs hundreds of threads: each open dashboard WebSocket holds one for its life. But
threads running Python share one GIL. Past a handful, every database round trip hands the GIL to
another thread, and getting it back costs a switch interval, so a burst of scans makes each of them
slower and the burst longer; and whoever holds an event's row lock must win the GIL back to commit.
Four is the default; an API-only pool of short requests runs with two. The measurements behind both
are in `docs/performance.md`.

A request waiting here sleeps on a lock and costs nothing. Socket.IO's own requests never reach this:
Flask-SocketIO's middleware, wrapped around it, answers them first.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FairSlots:
    """A semaphore that serves waiters in arrival order: a freed slot is handed to the longest waiter.

    `threading.Semaphore` lets a newcomer take a slot that was just freed for a waiter, which goes
    back to the end of the line: under a burst some requests then wait many turns.
    """

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._free = limit
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the request that hands its slot over

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1


class BoundedConcurrency:
    """WSGI middleware: the app runs in one of `limit` slots; a streamed body is produced outside it."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.slots = FairSlots(limit)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self.slots:
            return self.app(environ, start_response)


def init_app(app) -> None:
    """Bound the app if REQUEST_CONCURRENCY is set (0 or unset: no bound). Call before Socket.IO wraps it."""
    limit = int(app.config.get("REQUEST_CONCURRENCY") or 0)
    if limit > 0:
        app.wsgi_app = BoundedConcurrency(app.wsgi_app, limit)
