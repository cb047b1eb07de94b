"""`gunicorn wsgi:app --bind …` from the repository root serves pages, API and Socket.IO on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gunicorn_serves_pages_api_and_socketio(app, world, database_url):
    port = _free_port()
    env = {**os.environ, "SECRET_KEY": "test-only", "DATABASE_URL": database_url, "PROPUSK_ENV": "production"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                page = requests.get(f"{base}/login", timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert page.status_code == 200 and "Вход для сотрудников" in page.text
        assert requests.get(f"{base}/api/v1/openapi.json", timeout=5).json()["openapi"].startswith("3.")
        handshake = requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=5)
        assert handshake.status_code == 200 and '"sid"' in handshake.text
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
