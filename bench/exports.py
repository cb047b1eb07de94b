"""Large exports: time to the first byte and in all for 100,000 participants (CSV and XLSX) on
PostgreSQL, and the door's scan latency while an export runs.

Run by hand (it resets the database it is given):

    .venv/bin/python bench/exports.py --database-url postgresql://postgres@127.0.0.1:5432/test_h20 \
        --redis-url redis://127.0.0.1:6379/5

It migrates an empty schema, seeds one region (5 municipalities, 100 schools, 4 venues, 20 events,
N tickets, 60 % of them admitted) and starts gunicorn on loopback (production config). A kiosk then
scans fresh tickets at a steady pace, alone and while a coordinator downloads the full participants
list (the ministry's form), first as CSV, then as XLSX. It prints the timings, the rows received and
the scan latency with and without an export running, and stops what it started. Target: ≤ 5 s for
100,000 CSV rows.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    CpuMeter,
    free_port,
    letters,
    machine_pace,
    open_day,
    post_json,
    start_gunicorn,
    stop_gunicorn,
)


def bulk_participants(
    tenant_id: int,
    seats: list[tuple[int, int, int]],
    *,
    admitted_every: int = 0,
    surname: str = "Ученик",
    chunk: int = 5000,
) -> int:
    """A student, consent and active ticket per (event id, school id, municipality id); every
    `admitted_every`-th also admitted (0: none). Bulk INSERT … RETURNING: setup, not what is measured.
    Tickets carry no QR code. Returns the number of admissions written; commits."""
    from collections import Counter

    from sqlalchemy import insert, text, update

    from server.catalog.models import Event
    from server.checkins.models import AdmissionMethod, Checkin, ScanResult
    from server.database import utcnow
    from server.extensions import db
    from server.tickets.models import Consent, ConsentMethod, Student, Ticket

    now = utcnow()
    admitted = 0
    for start in range(0, len(seats), chunk):
        part = seats[start : start + chunk]
        names = [f"{surname}{letters(n)}" for n in range(start, start + len(part))]
        student_ids = db.session.scalars(
            insert(Student).returning(Student.id, sort_by_parameter_order=True),
            [
                {
                    "tenant_id": tenant_id,
                    "school_id": school_id,
                    "last_name": name,
                    "first_name": "Иван",
                    "middle_name": "Петрович",
                    "grade": 8 + n % 4,
                    "identity_name": f"{name.lower()} иван петрович",
                    "search_last_name": name.lower(),
                    "created_at": now,
                }
                for n, ((_, school_id, _), name) in enumerate(zip(part, names, strict=True))
            ],  # fmt: skip
        ).all()
        consent_ids = db.session.scalars(
            insert(Consent).returning(Consent.id, sort_by_parameter_order=True),
            [
                {
                    "tenant_id": tenant_id,
                    "student_id": sid,
                    "guardian_name": "Иванова Мария Петровна",
                    "text_version": "1",
                    "method": ConsentMethod.PAPER,
                    "given_at": now,
                    "created_at": now,
                }
                for sid in student_ids
            ],  # fmt: skip
        ).all()
        ticket_ids = db.session.scalars(
            insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True),
            [
                {
                    "tenant_id": tenant_id,
                    "event_id": event_id,
                    "student_id": sid,
                    "consent_id": cid,
                    "municipality_id": municipality_id,
                    "access_token": secrets.token_urlsafe(24),
                    "source": "bench",
                    "created_at": now,
                }
                for (event_id, _, municipality_id), sid, cid in zip(
                    part, student_ids, consent_ids, strict=True
                )
            ],  # fmt: skip
        ).all()
        if admitted_every:
            rows = [
                {"tenant_id": tenant_id, "ticket_id": tid, "event_id": event_id, "result": ScanResult.OK,
                 "method": AdmissionMethod.MANUAL, "scanned_at": now - timedelta(minutes=n % 120),
                 "created_at": now}
                for n, ((event_id, _, _), tid) in enumerate(zip(part, ticket_ids, strict=True))
                if n % admitted_every == 0
            ]  # fmt: skip
            db.session.execute(insert(Checkin), rows)
            admitted += len(rows)
        db.session.commit()
    for event_id, n in Counter(event_id for event_id, _, _ in seats).items():
        db.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(capacity=Event.capacity + n, registered=Event.registered + n)
        )
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # Fresh rows have no statistics: PostgreSQL would plan every join as a nested loop over tables
        # it believes empty (in a real region autovacuum analyses them long before a report).
        db.session.execute(text("ANALYZE students, consents, tickets, checkins"))
        db.session.commit()
    return admitted


def _env(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECRET_KEY="bench-" + secrets.token_hex(8),
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        PROPUSK_ENV="production",
        RATELIMIT_ENABLED="false",
    )
    return env


def reset_and_seed(args) -> dict:
    """The region (unless --reuse keeps the one seeded before), then the door's fresh tickets."""
    from sqlalchemy import func, text

    os.environ.update(_env(args))
    from server import create_app
    from server.accounts.models import Role
    from server.accounts.services import create_user
    from server.checkins import kiosks
    from server.extensions import db
    from server.tickets import codes
    from tenants.scoping import tenant_scope
    from tenants.services import create_tenant

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    started = time.perf_counter()
    if not args.reuse:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                       env=_env(args), check=True, capture_output=True)  # fmt: skip
        with app.app_context():
            tenant = create_tenant("yaroslavl")
            db.session.commit()
            with tenant_scope(tenant.id):
                _seed_region(tenant, args.rows - args.scans)
        print(f"seeded {args.rows - args.scans} participants in {time.perf_counter() - started:.1f}s")
    from sqlalchemy import select

    from server.catalog.models import Event, School
    from server.tickets.models import Student, Ticket
    from tenants.models import Tenant

    password = secrets.token_urlsafe(12)
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "yaroslavl"))
        with tenant_scope(tenant.id):
            email = f"bench{secrets.token_hex(4)}@example.ru"
            create_user(email, password=password, tenant=tenant, role=Role.COORDINATOR)
            # The door's own tickets: fresh, signed, at the first event (they count in the export).
            door_event = db.session.scalar(select(Event).order_by(Event.id).limit(1))
            school = db.session.scalar(select(School).order_by(School.id).limit(1))
            surname = f"Вход{letters(secrets.randbelow(10**6))}"
            door_seats = [(door_event.id, school.id, school.municipality_id)] * args.scans
            bulk_participants(tenant.id, door_seats, surname=surname)
            sign = codes.signer(tenant.id)
            door_tickets = db.session.scalars(
                select(Ticket.id).join(Student, Student.id == Ticket.student_id)
                .where(Student.last_name.startswith(surname)).order_by(Ticket.id)
            ).all()  # fmt: skip
            door_codes = []
            for ticket_id in door_tickets:
                code = sign(codes.CodeKind.TICKET, ticket_id, door_event.id)
                db.session.execute(
                    text("UPDATE tickets SET code = :code WHERE id = :id AND tenant_id = :t"),
                    {"code": code, "id": ticket_id, "t": tenant.id},
                )
                door_codes.append(code)
            _, pairing = kiosks.create_kiosk(door_event.venue_id, f"Вход {surname}")
            db.session.flush()
            token = kiosks.pair_kiosk(pairing).token
            total = db.session.scalar(select(func.count()).select_from(Ticket))
            db.session.commit()
    print(f"{total} participants in the region, {len(door_codes)} of them for the door")
    return {"email": email, "password": password, "token": token, "codes": door_codes, "rows": total}


def _seed_region(tenant, rows: int) -> None:
    """5 municipalities of 20 schools, 4 venues, 20 open-day events now; `rows` tickets, 60 % admitted."""
    from sqlalchemy import text

    from server.catalog import services as catalog
    from server.database import utcnow
    from server.extensions import db

    schools = []
    for m in range(5):
        municipality = catalog.create_municipality(f"Муниципалитет {letters(m)}")
        db.session.flush()
        for s in range(20):
            schools.append(catalog.create_school(f"Школа № {m * 20 + s + 1}", municipality.id))
    venues = [
        catalog.save_venue(None, name=f"Колледж {v + 1}", address="ул. Советская, 1", cluster=None)
        for v in range(4)
    ]
    db.session.flush()
    now = utcnow()
    events = []
    for e in range(20):
        data = open_day(f"День открытых дверей {e + 1}", venues[e % 4].id, now - timedelta(minutes=30),
                        now + timedelta(hours=6), 10)  # fmt: skip
        events.append(catalog.save_event(None, data, tenant.tz))
    db.session.flush()
    seats = [(events[n % 20].id, schools[n % 100].id, schools[n % 100].municipality_id) for n in range(rows)]
    bulk_participants(tenant.id, seats)
    _admit_share(tenant.id, 0.6)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def _admit_share(tenant_id: int, share: float) -> int:
    """Admit a share of the seeded tickets (manual admissions, spread over two hours)."""
    from sqlalchemy import text

    from server.extensions import db

    result = db.session.execute(
        text(
            "INSERT INTO checkins (tenant_id, ticket_id, event_id, result, method, scanned_at, created_at,"
            " conflict) SELECT tenant_id, id, event_id, 'OK', 'MANUAL',"
            " now() - (id % 120) * interval '1 minute', now(), false FROM tickets"
            " WHERE tenant_id = :t AND id % 10 < :tenths"
        ),
        {"t": tenant_id, "tenths": round(share * 10)},
    )
    db.session.commit()
    return result.rowcount


def login(port: int, email: str, password: str) -> str:
    """A coordinator's session cookie, through the real login form (CSRF token included)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = _session_cookie(response)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token.group(1)})
    connection.request(
        "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    )
    response = connection.getresponse()
    answer = response.read().decode()
    assert response.status in (302, 303), re.findall(r'class="(?:flash[^"]*|error)"[^>]*>([^<]*)', answer)
    return _session_cookie(response)


def _session_cookie(response) -> str:
    cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    return next(c for c in cookies if c.startswith("session="))


def download(port: int, cookie: str, fmt: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    connection.request("GET", f"/yaroslavl/reports/participants.{fmt}", headers={"Cookie": cookie})
    response = connection.getresponse()
    first_chunk = response.read1(65536)
    first = time.perf_counter() - started
    size, lines = len(first_chunk), first_chunk.count(b"\n")
    while chunk := response.read1(65536):
        size += len(chunk)
        lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    assert response.status == 200, response.status
    return {"format": fmt, "first_byte_s": first, "total_s": total, "bytes": size, "lines": lines}


class Door(threading.Thread):
    """A kiosk scanning fresh tickets at `rate` per second; records each answer's latency."""

    def __init__(self, port: int, token: str, codes: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.codes, self.rate = port, token, codes, rate
        self.latencies: list[tuple[float, float]] = []  # (moment, seconds)
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        for code in self.codes:
            if self.stop.is_set():
                return
            started = time.perf_counter()
            status, answer = post_json(connection, "/api/v1/yaroslavl/checkins",
                                       {"code": code, "scan_id": str(uuid.uuid4())}, headers)  # fmt: skip
            assert status == 200 and answer["result"] == "ok", (status, answer)
            self.latencies.append((started, time.perf_counter() - started))
            time.sleep(max(0.0, 1 / self.rate - (time.perf_counter() - started)))

    def window(self, start: float, end: float) -> list[float]:
        return [s for at, s in self.latencies if start <= at <= end]


def _percentiles(samples: list[float]) -> str:
    if len(samples) < 2:
        return "n/a"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"n={len(samples)} p50 {1000 * statistics.median(samples):.1f} ms, "
            f"p99 {1000 * p99:.1f} ms, max {1000 * ordered[-1]:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/propusk_exports")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--scans", type=int, default=3000, help="fresh tickets for the door")
    parser.add_argument("--rate", type=float, default=20.0, help="door scans per second")
    parser.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the region seeded by an earlier run (run both with the same "
        "KEY_ENCRYPTION_KEY in the environment: the region's signing key is sealed with it)",
    )
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--repeat", type=int, default=1, help="downloads of each format, interleaved")
    args = parser.parse_args()
    if args.reuse and "KEY_ENCRYPTION_KEY" not in os.environ:
        parser.error("--reuse needs the KEY_ENCRYPTION_KEY the region was seeded with")
    seeded = reset_and_seed(args)
    args.port = args.port or free_port()
    server = start_gunicorn(args.port, _env(args))
    try:
        cookie = login(args.port, seeded["email"], seeded["password"])
        door = Door(args.port, seeded["token"], seeded["codes"], args.rate)
        door.start()
        time.sleep(5)
        quiet = (time.perf_counter() - 5, time.perf_counter())
        pace_before = machine_pace()
        results = []
        meter = CpuMeter(args.port)
        # This database's backends only: other databases on the same server are not the export's.
        meter.needles["postgres"] = f" {urllib.parse.urlsplit(args.database_url).path.lstrip('/')} ".encode()
        for _ in range(args.repeat):
            for fmt in args.formats.split(","):
                started = time.perf_counter()
                meter.start()
                result = download(args.port, cookie, fmt)
                result["cpu"] = meter.stop()  # the door's 20 scans a second included (~2 % of a core)
                result["door"] = door.window(started, time.perf_counter())
                results.append(result)
                time.sleep(2)
        door.stop.set()
        door.join()
        pace = f"{pace_before:.0f} / {machine_pace():.0f} ms before / after (bench.common.machine_pace)"
        print(f"machine pace {pace}; load average {os.getloadavg()[0]:.1f}")
        print(f"door alone:              {_percentiles(door.window(*quiet))}")
        for r in results:
            cpu = f"gunicorn {r['cpu']['gunicorn']:.2f} s + PostgreSQL {r['cpu']['postgres']:.2f} s"
            print(f"{r['format'].upper():4} {seeded['rows']} rows: "
                  f"first byte {r['first_byte_s'] * 1000:.0f} ms, all {r['total_s']:.2f} s, "
                  f"{r['bytes'] / 2**20:.1f} MiB, {r['lines']} lines; CPU {cpu}")  # fmt: skip
            print(f"door during {r['format'].upper():4} export: {_percentiles(r['door'])}")
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
