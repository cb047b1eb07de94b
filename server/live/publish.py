"""Live events, sent only after the database holds what they announce.

Services queue events in their unit of work's outbox (`outbox`, `queue`); once that unit has
committed (`server.database.unit_of_work`) the outbox goes to one background sender thread per
process, and a rollback drops it.
Emitting is best-effort and never on the request's path: if the message queue (Redis) is slow or
down, the admission still answers at once, and dashboards catch up from the next snapshot (they ask
for one every minute and on reconnect).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue as queue_module
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import current_app
from socketio import RedisManager

from server.database import Work, waiting
from server.extensions import socketio

NAMESPACE = "/live"
BACKLOG = 10_000  # messages waiting for the sender; beyond this we drop (snapshots repair)
# Applies only to connections that asked for batches (`auth={"batch": true}`, as our dashboard
# does); every other client gets one `checkin` per admission, as the SPEC promises. See _Sender.
COALESCE = float(os.environ.get("LIVE_COALESCE_SECONDS", "0.05"))
BATCH_SUFFIX = "|batch"
DRAIN = 500  # messages the sender takes in one pass at most
GATHER = float(os.environ.get("LIVE_GATHER_SECONDS", "0.005"))  # after a pass, before the next (_Sender)
REDIS_CONNECT_TIMEOUT = 1.0  # seconds; redis-py waits for the OS (minutes) by default
log = logging.getLogger("propusk.live")


Triple = tuple[str, Any, list[str]]  # (event, payload, rooms): one emit to every socket in any of them


@dataclass(frozen=True)
class LiveMessage:
    name: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]


def deployment() -> str:
    """What the processes of one installation share: its database. Rooms are named under it.

    One Redis (and its single pub/sub channel) may serve several installations — staging and
    production, or parallel test runs — whose region ids collide (`tenant:1` everywhere). Prefixing
    every room with a digest of the database URL keeps their live events apart. Override with
    LIVE_DEPLOYMENT when processes reach the same database under different URLs.
    """
    override = os.environ.get("LIVE_DEPLOYMENT")
    if override:
        return override
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in _deployments:
        _deployments[url] = hashlib.sha256(url.encode()).hexdigest()[:12]
    return _deployments[url]


_deployments: dict[str, str] = {}


def tenant_room(tenant_id: int) -> str:
    return f"{deployment()}:tenant:{tenant_id}"


def municipality_room(tenant_id: int, municipality_id: int) -> str:
    return f"{deployment()}:municipality:{tenant_id}:{municipality_id}"


def school_room(tenant_id: int, school_id: int) -> str:
    return f"{deployment()}:school:{tenant_id}:{school_id}"


def venue_room(tenant_id: int, venue_id: int) -> str:
    return f"{deployment()}:venue:{tenant_id}:{venue_id}"


def batch_room(room: str) -> str:
    """The twin of a room for connections that take coalesced `checkins` lists."""
    return room + BATCH_SUFFIX


class Outbox(list):
    """Messages waiting for their unit of work to commit; called by it once it has."""

    def __call__(self) -> None:
        send(self)


def outbox(work: Work | None = None) -> Outbox:
    """The messages waiting for this unit of work's commit (the request's by default)."""
    return waiting(work or Work.of(), Outbox)


def queue(name: str, payload: dict[str, Any], rooms: tuple[str, ...], waiting: list[LiveMessage]) -> None:
    """Add a message to an outbox (`outbox()`), to be sent once its unit of work commits."""
    waiting.append(LiveMessage(name, payload, rooms))


def send(messages: list[LiveMessage]) -> None:
    """Hand committed messages to the sender."""
    for message in messages:
        sender.submit(message)


class _Sender:
    """One daemon thread per process that emits committed messages, so no request waits on Redis.

    Every room gets one `checkin` per admission (the SPEC's contract). Its batch twin, which our own
    dashboards join, is coalesced so that a busy open day does not drown them: the first `checkin` goes
    out at once; more within COALESCE seconds are held and sent together as one `checkins` message
    (a list of `checkin` payloads) when the window ends. 200 admissions a second become at most
    1/COALESCE messages a second per dashboard; with a thread per WebSocket, that is what keeps a
    hundred dashboards within a tenth of a second.

    After a pass that sent something, the sender sleeps GATHER seconds before it looks again, so a
    busy door's admissions leave in batches: one wake-up of this thread and one Redis round trip per
    few milliseconds, not per admission, and a request queueing a message does not wake a waiting
    thread. A quiet door's admission still leaves at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._queue: queue_module.Queue[LiveMessage] = queue_module.Queue(BACKLOG)
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._last_sent: dict[str, float] = {}

    def submit(self, message: LiveMessage) -> None:
        self._ensure_running()
        try:
            self._queue.put_nowait(message)
        except queue_module.Full:
            log.warning("live backlog full: %s dropped (dashboards catch up on snapshot)", message.name)

    def deliver_inline(self, message: LiveMessage) -> None:
        """Emit in the caller's thread, due batches included (bench/instructions.py: a count that no
        thread's timing moves)."""
        _deliver(self._take(message) + self._flush_due())

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until everything submitted so far has been emitted (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks or self._pending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # a forked worker inherits neither the thread nor a usable queue: start afresh
            self._queue = queue_module.Queue(BACKLOG)
            self._pending, self._last_sent = {}, {}
            threading.Thread(target=self._run, name="live-sender", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            wait = None
            if self._pending:
                due = min(self._last_sent.get(room, 0.0) for room in self._pending) + COALESCE
                wait = max(due - time.monotonic(), 0.0)
            messages = self._drain(wait)
            try:
                triples = [triple for message in messages for triple in self._take(message)]
                _deliver(triples + self._flush_due())
            except Exception:  # never let the sender die; snapshots repair what it lost
                log.warning("live sender failed", exc_info=True)
            finally:
                for _ in messages:
                    self._queue.task_done()
            if messages:
                time.sleep(GATHER)

    def _drain(self, wait: float | None) -> list[LiveMessage]:
        """Everything queued so far, waiting up to `wait` for the first: under load one pass (and one
        Redis round trip) carries many admissions, so the sender keeps up however busy the door is."""
        try:
            messages = [self._queue.get(timeout=wait)]
        except queue_module.Empty:
            return []
        while len(messages) < DRAIN:
            try:
                messages.append(self._queue.get_nowait())
            except queue_module.Empty:
                break
        return messages

    def _take(self, message: LiveMessage) -> list[Triple]:
        # One emit to all of the message's rooms: each dashboard sits in exactly one of them.
        every: list[Triple] = [(message.name, message.payload, list(message.rooms))]
        if message.name != "checkin":
            return every + [(message.name, message.payload, [batch_room(r) for r in message.rooms])]
        now = time.monotonic()
        immediate = []
        for room in map(batch_room, message.rooms):
            if room not in self._pending and now - self._last_sent.get(room, 0.0) >= COALESCE:
                self._last_sent[room] = now
                immediate.append(room)
            else:
                self._pending.setdefault(room, []).append(message.payload)
        if immediate:
            every.append(("checkin", message.payload, immediate))
        return every

    def _flush_due(self) -> list[Triple]:
        now = time.monotonic()
        due: list[Triple] = []
        for room in [r for r in self._pending if now - self._last_sent.get(r, 0.0) >= COALESCE]:
            payloads = self._pending.pop(room)
            self._last_sent[room] = now
            due.append(
                ("checkin", payloads[0], [room]) if len(payloads) == 1 else ("checkins", payloads, [room])
            )
        if len(self._last_sent) > 10_000:  # forget rooms that have been quiet a while
            self._last_sent = {r: t for r, t in self._last_sent.items() if now - t < COALESCE}
        return due


class BatchingRedisManager(RedisManager):
    """python-socketio's Redis manager, extended: inside `batch()` its publishes leave together in one
    pipeline, in its own message format on its own channel, so the other processes' listeners deliver
    them as usual. Under load the sender then makes one Redis round trip per pass instead of one per
    emit, each followed by a wait for the GIL. If Redis fails, publishing pauses for a few seconds:
    local dashboards still get everything, remote ones catch up on their next snapshot."""

    PAUSE_AFTER_FAILURE = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held = threading.local()
        self._paused_until = 0.0

    @contextmanager
    def batch(self) -> Iterator[None]:
        held: list[dict[str, Any]] = []
        self._held.messages = held
        try:
            yield
        finally:
            self._held.messages = None
            if held:
                self._publish_all(held)

    def _publish(self, data: dict[str, Any]) -> Any:
        held = getattr(self._held, "messages", None)
        if held is None:
            return super()._publish(data)
        held.append(data)
        return None

    def _publish_all(self, messages: list[dict[str, Any]]) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            if not self.connected:  # type: ignore[has-type]
                self._redis_connect()
            pipe = self.redis.pipeline(transaction=False)
            for message in messages:
                pipe.publish(self.channel, self.json.dumps(message))
            pipe.execute()
        except Exception:
            self.connected = False
            self._paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE
            log.warning("live events not published to Redis; other processes catch up on snapshots")


def client_manager(url: str | None) -> BatchingRedisManager | None:
    """The Socket.IO client manager for a Redis message queue (None: Flask-SocketIO's default)."""
    if not url or not url.startswith(("redis://", "rediss://")):
        return None
    return BatchingRedisManager(
        url, channel="flask-socketio", redis_options={"socket_connect_timeout": REDIS_CONNECT_TIMEOUT}
    )


def _deliver(triples: list[Triple]) -> None:
    """Emit (event, payload, rooms) triples: to this process's sockets, and through the message queue
    to the other processes' in one batch where the queue is ours."""
    if not triples:
        return
    server = socketio.server
    if server is None:
        return
    _bound_redis_connect(server)
    manager = server.manager
    together = manager.batch() if isinstance(manager, BatchingRedisManager) else nullcontext()
    with together:
        for name, payload, rooms in triples:
            try:
                server.emit(name, payload, to=rooms, namespace=NAMESPACE)
            except Exception:  # the database is the truth; a lost live event is caught up by snapshots
                log.warning("live event %s to %s not delivered", name, rooms, exc_info=True)


def _bound_redis_connect(server) -> None:
    """Give the Redis message queue a connect timeout, so an unreachable host fails fast, not in minutes."""
    options = getattr(server.manager, "redis_options", None)
    if isinstance(options, dict) and "socket_connect_timeout" not in options:
        options["socket_connect_timeout"] = REDIS_CONNECT_TIMEOUT


sender = _Sender()
