"""A local SMTP server that keeps what it receives: for the mail tests and bench/notifications.py.

    python -m bench.smtp_sink --port 2525 --dir /tmp/mail [--count-only]

Each accepted message is written to DIR as `<n>.eml` (or only counted, in DIR/count, with
--count-only). Recipients whose local part starts with `bounce` are refused for good (550),
with `tempfail` for now (451): the two answers the worker must tell apart.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path, count_only: bool) -> None:
        self.folder = folder
        self.count_only = count_only
        self.received = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        local = address.split("@", 1)[0].lower()
        if local.startswith("bounce"):
            return "550 5.1.1 Mailbox does not exist"
        if local.startswith("tempfail"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        with self.lock:
            self.received += 1
            number = self.received
        if self.count_only:
            if number % 100 == 0:
                (self.folder / "count").write_text(str(number))
        else:
            temporary = self.folder / f".{number}.tmp"
            temporary.write_bytes(envelope.original_content or envelope.content)
            os.replace(temporary, self.folder / f"{number:06d}.eml")
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--count-only", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    sink = Sink(args.dir, args.count_only)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    (args.dir / "count").write_text(str(sink.received))
    controller.stop()


if __name__ == "__main__":
    main()
