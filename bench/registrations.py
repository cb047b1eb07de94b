"""Benchmark: registrations over HTTP (gunicorn + PostgreSQL), QR PNG rendering, a class sheet PDF.

Run by hand from the repository root (it DROPS and rebuilds the schema of the database it is given):

    DATABASE_URL=postgresql://postgres@127.0.0.1/propusk_tickets .venv/bin/python bench/registrations.py

It starts gunicorn on a free loopback port (workers from --workers, default 2; threads per worker from
GUNICORN_THREADS, default 32), 32 client threads race to register `--attempts` students for an event
with `--capacity` seats (so the last seats are fought over), then checks the database: active
tickets == registered counter <= capacity. Prints numbers.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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

MOSCOW = ZoneInfo("Europe/Moscow")
WARMUP_ATTEMPTS = 500  # registrations on a separate event before the measured race, not counted


def _seed(database_url: str, capacity: int, schools: int) -> tuple[int, int, list[int]]:
    """A fresh schema via the real migrations, one region, `schools` schools, the measured event and
    a warm-up event."""
    from sqlalchemy import text

    from server import create_app
    from server.catalog import services as catalog
    from server.database import utcnow
    from server.extensions import db
    from tenants.scoping import tenant_scope
    from tenants.services import create_tenant

    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    env = dict(os.environ, PROPUSK_ENV="development", DATABASE_URL=database_url)
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with app.app_context():
        tenant = create_tenant("yaroslavl")
        with tenant_scope(tenant):
            municipality = catalog.create_municipality("г. Ярославль")
            school_ids = [
                catalog.create_school(f"Средняя школа № {n}", municipality.id).id for n in range(schools)
            ]
            venue = catalog.save_venue(None, name="Колледж", address="ул. Гагарина, 8")
            start = utcnow() + timedelta(days=7)
            event_ids = [
                catalog.save_event(
                    None, open_day(title, venue.id, start, start + timedelta(hours=4), seats), MOSCOW
                ).id
                for title, seats in (("День открытых дверей", capacity), ("Разминка", WARMUP_ATTEMPTS))
            ]
            db.session.commit()
            return event_ids[0], event_ids[1], school_ids


def _start_gunicorn(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        SECRET_KEY="bench-not-secret",
        DATABASE_URL=database_url,
        REGISTRATION_RATE_LIMIT="1000000 per minute",  # one client address drives all the load here
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS=os.environ.get("GUNICORN_THREADS", "32"),
    )
    env.pop("REDIS_URL", None)
    return start_gunicorn(port, env)


def _race(
    port: int, event_id: int, school_ids: list[int], attempts: int, clients: int, surname: str = "Ученик"
) -> dict:
    path = f"/api/v1/yaroslavl/events/{event_id}/registrations"
    counter = iter(range(attempts))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    def client(_):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            body = {
                "student": {
                    "last_name": f"{surname}{letters(n)}",
                    "first_name": "Иван",
                    "grade": 9,
                    "school_id": school_ids[n % len(school_ids)],
                },
                "guardian": {"name": "Родитель", "phone": "+79000000000"},
                "consent": True,
            }
            started = time.perf_counter()
            status, _ = post_json(connection, path, body)
            elapsed = time.perf_counter() - started
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "wall": wall,
        "statuses": statuses,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
    }


def _check(database_url: str, event_id: int) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        active = conn.execute(
            "SELECT count(*) FROM tickets WHERE event_id = %s AND status = 'ACTIVE'", (event_id,)
        ).fetchone()[0]
        registered, capacity = conn.execute(
            "SELECT registered, capacity FROM events WHERE id = %s", (event_id,)
        ).fetchone()
        return active, registered, capacity


def _codes(database_url: str, limit: int) -> list[str]:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM tickets ORDER BY id LIMIT %s", (limit,))]


def bench_qr(codes: list[str]) -> float:
    from server.tickets import qr

    qr.matrix.cache_clear()
    started = time.perf_counter()
    for code in codes:
        qr.png(code)
    return (time.perf_counter() - started) / len(codes) * 1000


def bench_class_sheet(codes: list[str], runs: int = 5) -> float:
    from datetime import UTC, datetime

    from server.tickets import pdf, qr

    tz = MOSCOW
    start = datetime(2026, 4, 20, 7, tzinfo=UTC)
    cards = [
        pdf.TicketCard(
            code=code,
            short_name=f"Ученик{letters(n).capitalize()} И. П.",
            grade_label="8 класс",
            school="Средняя школа № 33",
            event_title="День открытых дверей: Железнодорожный транспорт",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            venue="Ярославский колледж ППТ",
            address="г. Ярославль, ул. Гагарина, 8",
        )
        for n, code in enumerate(codes[:30])
    ]
    escort = pdf.EscortCard(
        code=codes[0],
        school="Средняя школа № 33",
        class_label="8А",
        escort_name="Петрова А. С.",
        students=30,
        event_title=cards[0].event_title,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        venue=cards[0].venue,
        address=cards[0].address,
    )
    best = float("inf")
    for _ in range(runs):
        qr.matrix.cache_clear()
        started = time.perf_counter()
        pdf.class_sheet_pdf(escort, cards, tz)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capacity", type=int, default=3000)
    parser.add_argument("--attempts", type=int, default=3600)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--schools", type=int, default=40)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/propusk_tickets")
    if not database_url.startswith(("postgres://", "postgresql")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")

    event_id, warmup_id, school_ids = _seed(database_url, args.capacity, args.schools)
    port = free_port()
    server = _start_gunicorn(database_url, port, args.workers)
    try:
        # Warm the workers (connections, prepared statements, caches) on students and seats of their own.
        _race(port, warmup_id, school_ids, WARMUP_ATTEMPTS, args.clients, surname="Разминка")
        pace = machine_pace()
        meter = CpuMeter(port)
        meter.start()
        result = _race(port, event_id, school_ids, args.attempts, args.clients)
        cpu = meter.per(args.attempts)
    finally:
        stop_gunicorn(server)
    active, registered, capacity = _check(database_url, event_id)
    ok = result["statuses"].get(201, 0)
    print(f"cores: {os.cpu_count()}, gunicorn workers: {args.workers} (gthread), clients: {args.clients}")
    print(f"registrations: {args.attempts} attempts for {capacity} seats in {result['wall']:.2f} s")
    print(f"  responses: {dict(sorted(result['statuses'].items()))}")
    print(
        f"  throughput: {args.attempts / result['wall']:.0f} requests/s, {ok / result['wall']:.0f} tickets/s"
    )
    print(f"  latency: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms")
    print(f"  {cpu} per request; machine pace before the race {pace:.0f} ms")
    overbooked = active > capacity or registered != active or ok != active
    print(
        f"  database: {active} active tickets, registered counter {registered}, capacity {capacity} -> "
        f"{'OVERBOOKED OR INCONSISTENT' if overbooked else 'zero overbooking, counters exact'}"
    )

    codes = _codes(database_url, 1000)
    print(f"QR PNG render: {bench_qr(codes):.2f} ms per ticket ({len(codes)} distinct codes)")
    print(f"class sheet PDF, 30 students: {bench_class_sheet(codes) * 1000:.0f} ms (best of 5)")
    if overbooked:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
