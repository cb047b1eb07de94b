"""A real SMTP server process (aiosmtpd, bench/smtp_sink.py) and a way to read what it received."""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SmtpSink:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def raw(self) -> list[bytes]:
        return [path.read_bytes() for path in sorted(self.folder.glob("*.eml"))]

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=email.policy.default) for data in self.raw()]  # type: ignore[misc]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(list(self.folder.glob("*.eml"))) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages()


def start_sink(folder: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_sink", "--port", str(port), "--dir", str(folder), *extra],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the SMTP sink did not start") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the SMTP sink did not open its port")


@pytest.fixture
def smtp_sink(tmp_path):
    """An aiosmtpd server in its own process on a free port; stopped after the test."""
    folder = tmp_path / "smtp"
    process, port = start_sink(folder)
    yield SmtpSink(port, folder)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def smtp_app(app, smtp_sink):
    """The session app sending over SMTP to the sink for one test."""
    from server.mail.transport import _senders

    app.config["MAIL_URL"] = smtp_sink.url
    yield app
    app.config["MAIL_URL"] = None
    for sender in list(_senders.values()):
        sender.close_all()
    _senders.clear()
