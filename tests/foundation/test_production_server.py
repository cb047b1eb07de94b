"""`gunicorn wsgi:app --bind …` from the repository root serves pages, API and Socket.IO on its own."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _free_port
from tests.production import gunicorn, start_gunicorn, stop


@pytest.mark.slow
def test_gunicorn_serves_pages_api_and_socketio(app, world, database_url):
    with gunicorn(database_url) as base:
        page = requests.get(f"{base}/login", timeout=10)
        assert page.status_code == 200 and "Вход для сотрудников" in page.text
        assert requests.get(f"{base}/api/v1/openapi.json", timeout=5).json()["openapi"].startswith("3.")
        handshake = requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=5)
        assert handshake.status_code == 200 and '"sid"' in handshake.text


def _established_sockets(port: int) -> set[str]:
    """Inodes of the established TCP sockets on this local port (Linux /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _sockets_held(pid: int, inodes: set[str]) -> int:
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads sockets from Linux /proc")
def test_an_api_pool_of_two_workers_spreads_kiosk_connections_across_both(app, world, database_url):
    """With several workers each listens on its own socket (gunicorn.conf.py): kiosks connecting at
    once reach both, and every connection is answered."""
    port = _free_port()
    process = start_gunicorn(database_url, port, GUNICORN_WORKERS="2", GUNICORN_THREADS="8")
    base = f"http://127.0.0.1:{port}"
    kiosks = [requests.Session() for _ in range(16)]
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        for _ in range(300):
            try:
                requests.get(f"{base}/login", timeout=60)  # the app loads after gunicorn listens
                if len(children.read_text().split()) == 2:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        workers = [int(pid) for pid in children.read_text().split()]
        assert len(workers) == 2
        for kiosk in kiosks:  # each a keep-alive connection, as a kiosk holds one
            assert kiosk.get(f"{base}/api/v1/openapi.json", timeout=10).status_code == 200
        inodes = _established_sockets(port)
        held = [_sockets_held(pid, inodes) for pid in workers]
        assert sum(held) == 16 and min(held) >= 1, held
    finally:
        for kiosk in kiosks:
            kiosk.close()
        stop(process)
