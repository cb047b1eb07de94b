"""`gunicorn wsgi:app` as deployed, for tests that must see what users' browsers see (headers, file
names, worker errors): the Flask test client is lenient where gunicorn refuses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]


def production_env(database_url: str, **settings: str) -> dict[str, str]:
    """The production config on the test database (no Redis: the server stands alone)."""
    env = {**os.environ, "SECRET_KEY": "test-only", "DATABASE_URL": database_url, "PROPUSK_ENV": "production"}
    env.pop("REDIS_URL", None)
    return {**env, **settings}


def start_gunicorn(database_url: str, port: int, output=subprocess.DEVNULL, **settings: str):
    """`gunicorn wsgi:app` from the repository root in production config; its error log to `output`."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=production_env(database_url, **settings),
        stdout=output,
        stderr=output,
    )


def wait_until_up(base: str, process: subprocess.Popen, seconds: float = 120) -> None:
    """Until the worker answers: it loads the app after gunicorn listens (seconds on a busy machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            requests.get(f"{base}/login", timeout=60)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer in time")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)


@contextmanager
def gunicorn(database_url: str, log: Path | None = None, **settings: str) -> Iterator[str]:
    """A running `gunicorn wsgi:app` (its error log, tracebacks included, to `log`); yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log or os.devnull, "ab") as output:
        process = start_gunicorn(database_url, port, output, **settings)
        try:
            wait_until_up(base, process)
            yield base
        finally:
            stop(process)


def signed_in(base: str, email: str, password: str) -> requests.Session:
    """A browser-like session signed in through the login form (CSRF token included)."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = session.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"{email} could not sign in"
    return session
