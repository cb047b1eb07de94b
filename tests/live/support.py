"""Steps the live tests share: a paired kiosk at a venue, scans through the real kiosk API, and
Socket.IO test clients of the `/live` namespace."""

from __future__ import annotations

import time

from server.extensions import db
from server.live.publish import NAMESPACE, sender
from tenants.scoping import tenant_scope
from tests.conftest import bearer


def kiosk_token(world, region, venue_id: int) -> str:
    """A kiosk paired at `venue_id` (the kiosk engineer's services), returning its bearer token."""
    from server.checkins import kiosks

    with world.app.app_context(), tenant_scope(region.id):
        _, code = kiosks.create_kiosk(venue_id, "Главный вход")
        db.session.commit()
    with world.app.app_context():
        token = kiosks.pair_kiosk(code).token
        db.session.commit()
    return token


def scan(client, slug: str, token: str, code: str) -> dict:
    response = client.post(f"/api/v1/{slug}/checkins", json={"code": code}, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


class Gunicorn:
    """`gunicorn wsgi:app` on a free loopback port, as production runs it; stopped by `stop()`."""

    def __init__(self, database_url: str, redis_url: str | None) -> None:
        import os
        import subprocess
        import sys
        from pathlib import Path

        from tests.conftest import _free_port

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SECRET_KEY": "test-only", "DATABASE_URL": database_url}
        env["PROPUSK_ENV"] = "production"
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wsgi:app",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--no-control-socket",
            ],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn on {self.port} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait(timeout=5)


class LiveListener:
    """A real python-socketio client of `/live` that records what it hears (works with or without
    a message queue, unlike Flask-SocketIO's test client)."""

    def __init__(
        self, url: str, auth: dict | None = None, headers: dict | None = None, transport: str = "websocket"
    ) -> None:
        import threading

        import socketio as socketio_client

        self.events: dict[str, list[dict]] = {"snapshot": [], "checkin": []}
        self.batches = 0  # `checkins` lists received (only connections that asked for batches)
        self._changed = threading.Condition()
        self.client = socketio_client.Client(reconnection=False)
        for name in self.events:
            self.client.on(name, self._recorder(name), namespace=NAMESPACE)
        self.client.on("checkins", self._recorder("checkin", batch=True), namespace=NAMESPACE)
        self.client.connect(
            url,
            namespaces=[NAMESPACE],
            auth=auth,
            headers=headers or {},
            transports=[transport],
            wait_timeout=10,
        )

    def _recorder(self, name: str, batch: bool = False):
        """Record one message; a coalesced `checkins` list counts as its `checkin` messages."""

        def record(data) -> None:
            with self._changed:
                self.batches += batch
                self.events[name].extend(data if batch else [data])
                self._changed.notify_all()

        return record

    @property
    def connected(self) -> bool:
        return self.client.connected and NAMESPACE in self.client.namespaces

    def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.events[name]) >= count, timeout)
            return list(self.events[name])

    def quiet(self, name: str, settle: float = 0.3) -> list[dict]:
        """What arrived of `name` once everything this process committed has been emitted."""
        sender.wait_idle(5)
        time.sleep(settle)
        return list(self.events[name])

    def emit(self, name: str, data=None) -> None:
        self.client.emit(name, data, namespace=NAMESPACE)

    def close(self) -> None:
        self.client.disconnect()


def connect_live(url: str, slug: str | None, token: str | None = None, **extra) -> LiveListener | None:
    """Connect to `/live`; None when the server refuses the connection."""
    import socketio as socketio_client

    headers = extra.pop("headers", None)
    transport = extra.pop("transport", "websocket")
    auth = {k: v for k, v in {"tenant": slug, "token": token, **extra}.items() if v is not None}
    try:
        return LiveListener(url, auth, headers, transport)
    except socketio_client.exceptions.ConnectionError:
        return None
