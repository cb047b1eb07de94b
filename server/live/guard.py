"""Who may hold a Socket.IO connection in this process, and for how long without joining `/live`.

In threading mode every WebSocket holds one of the worker's threads for its whole life: 400
unauthenticated ones, which cost an attacker nothing, took all of them and `/login` and the kiosks'
scans waited for a thread that never came. So, per process:
- at most `SOCKETIO_MAX_CONNECTIONS` Engine.IO sessions, fewer than the worker's threads, so the
  rest always serve pages, logins and kiosks (by default three quarters of `GUNICORN_THREADS`);
- at most `SOCKETIO_MAX_PER_CLIENT` from one client address;
- a session that has not joined `/live` (which checks its credentials) within
  `SOCKETIO_JOIN_SECONDS` is closed, and so is one that has left it.
A refused handshake is answered at once (Engine.IO's 401), before it can hold a thread.

Closing a WebSocket session is not enough to free its thread: the thread waits for the client's
answer to the close frame, which a hostile client never sends. So the guard also shuts the TCP
connection of every WebSocket it closes (it notes each one's socket as it opens or upgrades).
"""

from __future__ import annotations

import contextlib
import logging
import socket as sockets_
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from server.live.publish import NAMESPACE

log = logging.getLogger("propusk")


class ConnectionGuard:
    """Admits Engine.IO sessions within the limits and sweeps those that never joined `/live`."""

    def __init__(self, server: Any, *, total: int, per_client: int, join_seconds: float) -> None:
        self.server = server  # the python-socketio Server
        self.total = total
        self.per_client = per_client
        self.join_seconds = join_seconds
        self._opened: dict[str, tuple[str, float]] = {}  # eio sid → (client address, opened at)
        self._connections: dict[str, Any] = {}  # eio sid → its WebSocket's TCP socket
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    def admit(self, eio_sid: str, environ: dict[str, Any]) -> bool:
        address = environ.get("REMOTE_ADDR") or "?"
        with self._lock:
            self._forget_closed()
            same_client = sum(1 for addr, _ in self._opened.values() if addr == address)
            if len(self._opened) >= self.total or same_client >= self.per_client:
                log.warning(
                    "socket.io session refused: %d open, %d from one client", len(self._opened), same_client
                )
                return False
            self._opened[eio_sid] = (address, time.monotonic())
            self._note(eio_sid, environ)
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._run, name="socketio-guard", daemon=True)
                self._sweeper.start()
        return True

    def _note(self, eio_sid: str, environ: dict[str, Any]) -> None:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            connection = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
            if connection is not None:
                self._connections[eio_sid] = connection

    def upgrading(self, environ: dict[str, Any]) -> None:
        """A session of ours moving from long-polling to a WebSocket: note its connection."""
        sid = (parse_qs(environ.get("QUERY_STRING", "")).get("sid") or [""])[0]
        with self._lock:
            if sid in self._opened:
                self._note(sid, environ)

    def _forget_closed(self) -> None:
        live = self.server.eio.sockets
        for sid in [sid for sid in self._opened if sid not in live]:
            del self._opened[sid]
            self._connections.pop(sid, None)

    def idle(self, now: float) -> list[str]:
        """Sessions older than the join time that are not in `/live` now."""
        manager = self.server.manager
        with self._lock:
            self._forget_closed()
            old = [sid for sid, (_, opened) in self._opened.items() if now - opened >= self.join_seconds]
        return [sid for sid in old if manager.sid_from_eio_sid(sid, NAMESPACE) is None]

    def sweep(self) -> int:
        closed = 0
        sockets = self.server.eio.sockets
        for sid in self.idle(time.monotonic()):
            with self._lock:  # taken first: once the session is gone, `_forget_closed` drops it
                connection = self._connections.pop(sid, None)
            socket = sockets.get(sid)
            if socket is not None:
                try:
                    # Not Engine.IO's `disconnect`: it waits until the client has read the close
                    # packet, which a client that never polls again never does.
                    socket.close(wait=False, reason=self.server.eio.reason.SERVER_DISCONNECT)
                    closed += 1
                except Exception:  # closing by itself meanwhile; the next sweep looks again
                    log.debug("socket.io session already gone", exc_info=True)
                sockets.pop(sid, None)
            if connection is not None:
                with contextlib.suppress(OSError):  # already gone
                    connection.shutdown(sockets_.SHUT_RDWR)  # the thread reading it returns
        return closed

    def _run(self) -> None:
        interval = max(min(self.join_seconds / 2, 1.0), 0.05)
        while True:
            time.sleep(interval)
            try:
                self.sweep()
            except Exception:  # never let the sweeper die: it is what frees the threads
                log.exception("socket.io guard sweep failed")


class UpgradeWatch:
    """WSGI middleware in front of Socket.IO's: tells the guard of each WebSocket upgrade."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], guard: ConnectionGuard) -> None:
        self.wsgi_app = wsgi_app
        self.guard = guard

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket" and "sid=" in environ.get(
            "QUERY_STRING", ""
        ):
            self.guard.upgrading(environ)
        return self.wsgi_app(environ, start_response)


def install(app, server: Any) -> ConnectionGuard:
    """Put the guard in front of python-socketio's own Engine.IO `connect` handler."""
    guard = ConnectionGuard(
        server,
        total=app.config["SOCKETIO_MAX_CONNECTIONS"],
        per_client=app.config["SOCKETIO_MAX_PER_CLIENT"],
        join_seconds=app.config["SOCKETIO_JOIN_SECONDS"],
    )
    on_connect = server._handle_eio_connect  # what python-socketio registered with Engine.IO

    def guarded(eio_sid: str, environ: dict[str, Any]):
        if not guard.admit(eio_sid, environ):
            return False  # Engine.IO drops the session and answers 401
        return on_connect(eio_sid, environ)

    server.eio.on("connect", guarded)
    app.wsgi_app = UpgradeWatch(app.wsgi_app, guard)
    app.extensions["socketio_guard"] = guard
    return guard
