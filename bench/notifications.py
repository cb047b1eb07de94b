"""The day-before reminder for an event of 10,000 families, sent while the door keeps scanning.

Run by hand (it resets the database it is given):

    .venv/bin/python bench/notifications.py --database-url postgresql://postgres@127.0.0.1/propusk_mail \
        --redis-url redis://127.0.0.1:6379/4 [--families 10000] [--worker-threads 4]

It migrates an empty schema and seeds one region: an event tomorrow with N registered families (each
with an e-mail) and an event running now at the same venue with tickets and a paired kiosk. It starts
a local SMTP sink (bench/smtp_sink.py, counting only), gunicorn (production config) for the door, and
`flask worker` (Redis queue) — the deployment at scale. Then it measures the door's scan latency alone,
plans the reminders (as the periodic job does at the region's reminder time) and, while the worker fans
the run out and sends, scans on: messages per second, the worker's peak memory (RSS), and the door's
latency beside it. The sink's count must equal the outbox's sent count: nothing lost, nothing twice.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, open_day, post_json, seed_tickets, start_gunicorn, stop_gunicorn  # noqa: E402


def _env(args, sink_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECRET_KEY=args.secret,
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        PROPUSK_ENV="production",
        MAIL_URL=f"smtp://127.0.0.1:{sink_port}",
        MAIL_RATE_PER_MINUTE=str(args.rate),
        PUBLIC_URL="https://propusk.example",
        HUEY_NAME="bench-notifications",
    )
    return env


def reset_and_seed(args, env: dict[str, str]):
    from sqlalchemy import text, update

    os.environ.update(env)
    from server import create_app
    from server.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    from server.catalog import services as catalog
    from server.checkins import kiosks
    from server.database import utcnow
    from server.jobs import huey
    from server.tickets.models import Consent
    from tenants.scoping import tenant_scope
    from tenants.services import create_tenant

    huey.flush()
    started = time.perf_counter()
    with app.app_context():
        tenant = create_tenant("yaroslavl")
        db.session.commit()
        with tenant_scope(tenant.id):
            municipality = catalog.create_municipality("Ярославль")
            db.session.flush()
            school = catalog.create_school("Средняя школа № 1", municipality.id)
            venue = catalog.save_venue(None, name="Колледж", address="ул. Советская, 1", cluster=None)
            db.session.flush()
            local_tomorrow = (utcnow().astimezone(tenant.tz) + timedelta(days=1)).date()
            starts = datetime.combine(local_tomorrow, day_time(10), tzinfo=tenant.tz)
            ends = starts + timedelta(hours=3)
            visit = open_day("День открытых дверей", venue.id, starts, ends, args.families)
            tomorrow = catalog.save_event(None, visit, tenant.tz)
            now = utcnow()
            opened, closes = now - timedelta(minutes=10), now + timedelta(hours=6)
            trial = open_day("Профпроба сегодня", venue.id, opened, closes, args.door_tickets)
            today = catalog.save_event(None, trial, tenant.tz)
            db.session.flush()
            seed_tickets(tenant.id, [(tomorrow, school)] * args.families, surname="Семья")
            door_codes = seed_tickets(tenant.id, [(today, school)] * args.door_tickets, surname="Ученик")
            db.session.execute(
                update(Consent).values(guardian_email=Consent.id.cast(db.String) + "@families.example")
            )
            kiosk, code = kiosks.create_kiosk(venue.id, "Главный вход")
            db.session.flush()
            token = kiosks.pair_kiosk(code).token
            slug, tz = tenant.slug, tenant.tz
            db.session.commit()
    print(f"seeded {args.families} families and {args.door_tickets} door tickets in "
          f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    return app, slug, tz, token, door_codes


class Door(threading.Thread):
    """One kiosk scanning a new ticket every `pause` seconds; keeps each scan's latency."""

    def __init__(self, port: int, slug: str, token: str, codes: list[str], pause: float) -> None:
        super().__init__(daemon=True)
        self.port, self.slug, self.token, self.codes, self.pause = port, slug, token, codes, pause
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self.stop.is_set() and self.codes:
            code = self.codes.pop()
            started = time.perf_counter()
            status, answer = post_json(connection, f"/api/v1/{self.slug}/checkins", {"code": code}, headers)
            self.latencies.append((time.perf_counter() - started) * 1000)
            if status != 200 or answer.get("result") != "ok":
                raise SystemExit(f"door scan failed: {status} {answer}")
            time.sleep(self.pause)


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, max {max(values):.1f} ms ({len(values)} scans)"


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (the worker is one process with threads)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def outbox_counts(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from server.extensions import db
    from server.mail.models import OutgoingMail

    with app.app_context():
        rows = db.session.execute(
            select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)
        ).all()
        db.session.remove()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--door-tickets", type=int, default=4000)
    parser.add_argument("--worker-threads", type=int, default=4)
    parser.add_argument(
        "--rate", type=int, default=0, help="MAIL_RATE_PER_MINUTE for the region (0: unbounded)"
    )
    parser.add_argument("--door-pause", type=float, default=0.05, help="seconds between the kiosk's scans")
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    args.secret = "bench-" + secrets.token_hex(8)

    folder = Path(f"/tmp/propusk-bench-mail-{os.getpid()}")
    sink_port = free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.smtp_sink",
            "--port",
            str(sink_port),
            "--dir",
            str(folder),
            "--count-only",
        ],
        cwd=ROOT,
    )
    env = _env(args, sink_port)
    app, slug, tz, token, door_codes = reset_and_seed(args, env)
    port = free_port()
    server = start_gunicorn(port, env)
    worker_log = open(folder / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker", "--threads", str(args.worker_threads),
         "--no-periodic"],
        cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(3)
        idle_rss = rss_kb(worker.pid)
        door = Door(port, slug, token, door_codes, args.door_pause)
        door.start()
        time.sleep(args.baseline_seconds)
        baseline = list(door.latencies)
        print(f"door alone: {percentiles(baseline)}")

        from server.notifications.jobs import plan_all

        with app.app_context():
            evening = datetime.combine(datetime.now(tz).date(), day_time(20), tzinfo=tz)
            planned_at = time.perf_counter()
            plan_all(evening)  # what the periodic job does at the region's reminder time
        during_from = len(door.latencies)
        peak_rss, first_sent = idle_rss, None
        while time.perf_counter() - planned_at < args.timeout:
            time.sleep(0.5)
            peak_rss = max(peak_rss, rss_kb(worker.pid))
            counts = outbox_counts(app)
            sent = counts.get("sent", 0)
            if sent and first_sent is None:
                first_sent = time.perf_counter()
            if sent >= args.families or worker.poll() is not None:
                break
        finished = time.perf_counter()
        during = door.latencies[during_from:]
        door.stop.set()
        door.join(timeout=30)
        counts = outbox_counts(app)
        time.sleep(1)
        sink.terminate()
        sink.wait(timeout=10)
        received = int((folder / "count").read_text())
        elapsed = finished - planned_at
        print(f"outbox: {counts}; the SMTP sink received {received}")
        print(f"reminders: {counts.get('sent', 0)} sent in {elapsed:.1f}s from planning = "
              f"{counts.get('sent', 0) / elapsed:.0f} messages/s "
              f"(first sent after {((first_sent or finished) - planned_at):.1f}s)")  # fmt: skip
        print(f"worker ({args.worker_threads} threads): RSS {idle_rss / 1024:.0f} MB idle, "
              f"{peak_rss / 1024:.0f} MB peak")  # fmt: skip
        print(f"door while sending: {percentiles(during)}")
        print(f"door alone:         {percentiles(baseline)}")
        if received != counts.get("sent", 0):
            print("MISMATCH: the sink's count differs from the outbox's sent count")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        stop_gunicorn(server)
        if sink.poll() is None:
            sink.terminate()


if __name__ == "__main__":
    main()
