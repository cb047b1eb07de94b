"""Small helpers the benchmarks share."""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# One key-encryption key for the benchmark's own process and every server it starts (production
# config refuses the development key), set before the config is first imported.
os.environ.setdefault("KEY_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())


def open_day(title: str, venue_id: int, starts_at, ends_at, capacity: int):
    """A benchmark event: an open day for grades 8–11, no quotas (a `catalog.EventInput`)."""
    from server.catalog.services import EventInput

    return EventInput(
        title=title,
        programme="open_day",
        format="in_person",
        venue_id=venue_id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        grade_min=8,
        grade_max=11,
    )


def free_port() -> int:
    """A free loopback port for a server the benchmark starts and stops itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def letters(n: int) -> str:
    """A distinct Cyrillic word for every n: believable, unique student names."""
    alphabet = "абвгдежзиклмнопрстуфхцчшэюя"
    out = ""
    while True:
        n, digit = divmod(n, len(alphabet))
        out = alphabet[digit] + out
        if n == 0:
            return out


def post_json(
    connection: http.client.HTTPConnection, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """POST JSON on a kept-alive connection; (status, decoded answer).

    http.client rather than requests: the load generator shares the 2 cores with the servers it
    measures, and requests cost several times the CPU per call.
    """
    connection.request(
        "POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})}
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def start_gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    """`gunicorn wsgi:app` on a loopback port (gunicorn.conf.py settings), once it answers /login.

    Its own process group (stop it with `stop_gunicorn`); its log goes to BENCH_SERVER_LOG or
    nowhere — never to an unread pipe, which would stall the server once full.
    """
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "a")  # noqa: SIM115
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/login")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(process)
    raise SystemExit(f"gunicorn on {port} did not start (set BENCH_SERVER_LOG=file to see why)")


class CpuMeter:
    """CPU seconds (user + system, from /proc; Linux) that gunicorn's processes and PostgreSQL's spend
    between `start()` and `stop()`. Throughput on a shared two-core machine swings by a third from one
    run to the next; the CPU an operation costs moves far less, so it is the figure to compare."""

    def __init__(self, gunicorn_port: int) -> None:
        self.needles = {"gunicorn": f"127.0.0.1:{gunicorn_port}".encode(), "postgres": b"postgres: "}
        self.spent: dict[str, float] = {}

    @staticmethod
    def _seconds(needle: bytes) -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if needle not in Path(stat.parent, "cmdline").read_bytes():
                    continue
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.spent = {name: -self._seconds(needle) for name, needle in self.needles.items()}

    def stop(self) -> dict[str, float]:
        return {name: spent + self._seconds(self.needles[name]) for name, spent in self.spent.items()}

    def per(self, count: int) -> str:
        """'gunicorn X ms + PostgreSQL Y ms of CPU per <thing>' for what `stop()` measured."""
        spent = self.stop()
        return (
            f"gunicorn {spent['gunicorn'] * 1000 / max(count, 1):.2f} ms + "
            f"PostgreSQL {spent['postgres'] * 1000 / max(count, 1):.2f} ms of CPU"
        )


_PACE_LOOP = (
    "import time; t = time.perf_counter(); sum(i * i for i in range(4_000_000)); "
    "print(time.perf_counter() - t)"
)


def machine_pace() -> float:
    """Milliseconds a fixed Python loop takes with one copy running on every core at once.

    This machine's two cores are shared: the same code runs up to twice as fast in one hour as in the
    next. Printed beside a run's figures, it tells a slow hour from a slow change; the loop's time in
    a calm hour is in README.
    """
    loops = [
        subprocess.Popen([sys.executable, "-c", _PACE_LOOP], stdout=subprocess.PIPE, text=True)
        for _ in range(os.cpu_count() or 1)
    ]
    return max(float(loop.communicate()[0]) for loop in loops) * 1000


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop the server and all its workers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def seed_tickets(tenant_id: int, seats: list[tuple[Any, Any]], surname: str = "Ученик") -> list[str]:
    """An active ticket with a signed code for each (event, school), in the order given; commits.

    Straight rows, not the registration service: setup for a benchmark, not what it measures.
    Students are named `<surname><letters(n)>`, so names stay distinct and believable.
    """
    from sqlalchemy import text, update

    from server.catalog.models import Event
    from server.database import utcnow
    from server.extensions import db
    from server.tickets import codes
    from server.tickets.models import Consent, ConsentMethod, Student, Ticket

    sign = codes.signer(tenant_id)
    now = utcnow()
    pairs = [(event.id, school.id, school.municipality_id) for event, school in seats]
    out: list[str] = []
    for start in range(0, len(pairs), 1000):
        chunk = pairs[start : start + 1000]
        students = [
            Student(
                school_id=school_id,
                last_name=f"{surname}{letters(n)}",
                first_name="Иван",
                middle_name="Петрович",
                grade=9,
                identity_name=f"{surname.lower()}{letters(n)} иван петрович",
                search_last_name=f"{surname.lower()}{letters(n)}",
            )
            for n, (_, school_id, _) in enumerate(chunk, start)
        ]
        db.session.add_all(students)
        db.session.flush()
        consents = [
            Consent(
                student_id=student.id,
                guardian_name="Иванова Мария Петровна",
                text_version="1",
                method=ConsentMethod.PAPER,
                given_at=now,
            )
            for student in students
        ]
        db.session.add_all(consents)
        db.session.flush()
        tickets = [
            Ticket(
                event_id=event_id,
                student_id=student.id,
                consent_id=consent.id,
                municipality_id=municipality_id,
                access_token=secrets.token_urlsafe(24),
            )
            for (event_id, _, municipality_id), student, consent in zip(
                chunk, students, consents, strict=True
            )
        ]
        db.session.add_all(tickets)
        db.session.flush()
        for (event_id, _, _), ticket in zip(chunk, tickets, strict=True):
            ticket.code = sign(codes.CodeKind.TICKET, ticket.id, event_id)
            out.append(ticket.code)
        db.session.commit()
        for row in (*students, *consents, *tickets):  # commit expires all it holds: keep it small
            db.session.expunge(row)
        if start == 0 and db.session.get_bind().dialect.name == "postgresql":
            # Fresh tables: without statistics PostgreSQL plans the foreign key checks as scans of
            # tables it believes empty, and every later chunk gets slower.
            db.session.execute(text("ANALYZE students, consents, tickets"))
            db.session.commit()
    issued = Counter(event_id for event_id, _, _ in pairs)
    for event_id, n in issued.items():
        db.session.execute(update(Event).where(Event.id == event_id).values(registered=Event.registered + n))
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        _settle(db.engine)
    return out


def _settle(engine) -> None:
    """The database as on the morning of open day, when the tickets were issued days before: vacuumed,
    analysed and checkpointed. Otherwise the measured run pays for the seeding (a checkpoint writing
    its pages, dead row versions of every ticket) at a moment that changes from run to run."""
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
        try:
            connection.execute(text("CHECKPOINT"))
        except Exception:  # needs a superuser (or pg_checkpoint); the run is then a little noisier
            print("(no CHECKPOINT: not allowed for this database user)")
