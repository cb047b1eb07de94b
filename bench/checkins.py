"""Door throughput: admissions per second and latency with 8 and 32 concurrent kiosks.

Run by hand (it resets the database it is given):

    .venv/bin/python bench/checkins.py --database-url postgresql://postgres@127.0.0.1/propusk_kiosk \
        --redis-url redis://127.0.0.1:6379/2

It migrates an empty schema, seeds one region with a venue, an open event, N tickets and 32 paired
kiosks, starts gunicorn on loopback (production config, Redis message queue, so every admission is
published live), then drives `POST /api/v1/<t>/checkins` from K kiosks, each with its own keep-alive
connection and its own tickets (a real door never scans one ticket twice): by default with wrk
(`apt-get install wrk`; `bench/checkins.lua`), which leaves the cores to the server, or with Python
threads (`--driver python`). It counts the live `checkin` messages that reach Redis, checks there is
exactly one admitted row per admitted ticket, prints the figures and stops what it started.
Its defaults are the README's API pool: 2 processes of 8 threads, REQUEST_CONCURRENCY=2 (unless set).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    CpuMeter,
    machine_pace,
    open_day,
    post_json,
    seed_tickets,
    start_gunicorn,
    stop_gunicorn,
)


def _env(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECRET_KEY="bench-" + secrets.token_hex(8),
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        PROPUSK_ENV="production",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
    )
    env.setdefault("REQUEST_CONCURRENCY", "2")
    return env


def reset_and_seed(args) -> tuple[str, list[str], list[str]]:
    """Fresh schema via the real migrations; one region, one venue, one open event, tickets, kiosks."""
    from sqlalchemy import text

    os.environ.update(_env(args))
    from server import create_app
    from server.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=_env(args),
        check=True,
        capture_output=True,
    )
    from server.catalog import services as catalog
    from server.checkins import kiosks
    from server.database import utcnow
    from tenants.scoping import tenant_scope
    from tenants.services import create_tenant

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
            now = utcnow()
            data = open_day(
                "День открытых дверей",
                venue.id,
                now - timedelta(minutes=10),
                now + timedelta(hours=6),
                args.tickets,
            )
            event = catalog.save_event(None, data, tenant.tz)
            db.session.flush()
            ticket_codes = seed_tickets(tenant.id, [(event, school)] * args.tickets)
            tokens = []
            for i in range(args.kiosks):
                kiosk, code = kiosks.create_kiosk(venue.id, f"Вход {i + 1}")
                db.session.flush()
                tokens.append(kiosks.pair_kiosk(code).token)
            slug = tenant.slug
            db.session.commit()
    print(f"seeded {args.tickets} tickets, {args.kiosks} kiosks in {time.perf_counter() - started:.1f}s")
    return slug, tokens, ticket_codes


class LiveCounter(threading.Thread):
    """Counts `checkin` messages published on the Socket.IO Redis channel (what dashboards receive).

    Every admission is published once for the dashboards that take each one. Dashboards that take
    batches get a `checkins` message for several admissions (not counted) and a `checkin` for a lone
    one (counted). So the count is the admissions and a few more: proof that they went out.
    """

    def __init__(self, redis_url: str) -> None:
        super().__init__(daemon=True)
        import redis

        self.pubsub = redis.Redis.from_url(redis_url).pubsub()
        self.pubsub.subscribe("flask-socketio")
        self.count = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message" and b'"checkin"' in message["data"]:
                self.count += 1


def drive(args, slug: str, tokens: list[str], codes: list[str], kiosks_n: int) -> dict:
    """K kiosk threads, each scanning its own share of the tickets as fast as answers come back."""
    shares = [codes[i::kiosks_n] for i in range(kiosks_n)]
    latencies: list[list[float]] = [[] for _ in range(kiosks_n)]
    results: list[dict[str, int]] = [{} for _ in range(kiosks_n)]
    barrier = threading.Barrier(kiosks_n + 1)
    stop_at = [0.0]

    def kiosk(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        path = f"/api/v1/{slug}/checkins"
        barrier.wait()
        for code in shares[i]:
            if time.perf_counter() >= stop_at[0]:
                break
            t0 = time.perf_counter()
            status, answer = post_json(conn, path, {"code": code, "scan_id": uuid.uuid4().hex}, headers)
            latencies[i].append(time.perf_counter() - t0)
            result = answer.get("result", f"http_{status}")
            results[i][result] = results[i].get(result, 0) + 1
            if args.pace:  # a real door: the next teenager steps up after a moment
                time.sleep(max(0.0, args.pace - (time.perf_counter() - t0)))
        conn.close()

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(kiosks_n)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + args.seconds
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for lst in latencies for x in lst)
    totals: dict[str, int] = {}
    for r in results:
        for k, v in r.items():
            totals[k] = totals.get(k, 0) + v
    return {
        "kiosks": kiosks_n,
        "requests": len(flat),
        "admitted": totals.get("ok", 0),
        "results": totals,
        "seconds": elapsed,
        "per_second": totals.get("ok", 0) / elapsed,
        "p50_ms": statistics.median(flat) * 1000,
        "p99_ms": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
        "max_ms": flat[-1] * 1000,
    }


def drive_wrk(args, slug: str, tokens: list[str], codes: list[str], kiosks_n: int) -> dict:
    """The same load from wrk (C, a few per cent of a core), so the load generator does not eat
    the cores it measures. Each wrk thread is one kiosk with its own token and tickets."""
    import shutil
    import tempfile

    shares = [codes[i::kiosks_n] for i in range(kiosks_n)]
    with tempfile.TemporaryDirectory(prefix="propusk-wrk-") as tmp:
        for i, share in enumerate(shares):
            Path(tmp, f"kiosk_{i + 1}.txt").write_text("\n".join([tokens[i], *share]) + "\n")
        command = [
            shutil.which("wrk") or "wrk",
            "-t", str(kiosks_n), "-c", str(kiosks_n), "--timeout", "10s",
            "-d", f"{max(1, round(args.seconds))}s",
            "-s", str(ROOT / "bench/checkins.lua"),
            f"http://127.0.0.1:{args.port}/api/v1/{slug}/checkins", "--", tmp, secrets.token_hex(4),
        ]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    stats = json.loads(line.removeprefix("WRK_JSON "))
    admitted = stats["results"].get("ok", 0)
    return {**stats, "kiosks": kiosks_n, "admitted": admitted, "per_second": admitted / stats["seconds"]}


def verify(args) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    from server.config import normalise_database_url

    engine = create_engine(normalise_database_url(args.database_url))
    with engine.connect() as conn:
        admitted = conn.execute(text("SELECT count(*) FROM checkins WHERE result = 'OK'")).scalar()
        doubled = conn.execute(
            text("SELECT count(*) FROM (SELECT ticket_id FROM checkins WHERE result = 'OK' "
                 "GROUP BY ticket_id HAVING count(*) > 1) d")
        ).scalar()  # fmt: skip
    engine.dispose()
    return admitted, doubled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/propusk_kiosk")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--tickets", type=int, default=60000)
    parser.add_argument("--kiosks", type=int, default=32)
    parser.add_argument("--levels", default="8,32")
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrency level")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn processes (the API needs no sticky sessions)"
    )
    parser.add_argument("--threads", type=int, default=8, help="per process")
    parser.add_argument(
        "--driver",
        choices=("wrk", "python"),
        default="wrk",
        help="load generator: wrk (apt-get install wrk) or Python threads (costs the server a core)",
    )
    parser.add_argument(
        "--pace", type=float, default=0.0, help="seconds between scans per kiosk (0: as fast as answered)"
    )
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql")):
        raise SystemExit("the benchmark runs on PostgreSQL")

    slug, tokens, codes = reset_and_seed(args)
    server = start_gunicorn(args.port, _env(args))
    live = LiveCounter(args.redis_url)
    live.start()
    report = []
    answered_ok = 0
    levels = [int(x) for x in args.levels.split(",")]
    try:
        warm = [codes[i * 200 : (i + 1) * 200] for i in range(len(levels))]
        rest = codes[len(levels) * 200 :]
        share = len(rest) // len(levels)
        driver = drive_wrk if args.driver == "wrk" else drive
        for n, level in enumerate(levels):
            # Warm up connections and caches on tickets of their own, then measure on fresh tickets.
            warmup = drive(args, slug, tokens, warm[n], level)
            answered_ok += warmup["admitted"]
            pace_before = machine_pace()
            meter = CpuMeter(args.port)
            meter.start()
            stats = driver(args, slug, tokens, rest[n * share : (n + 1) * share], level)
            cpu = meter.per(stats["requests"])
            pace = f"machine pace {pace_before:.0f} / {machine_pace():.0f} ms before / after"
            answered_ok += stats["admitted"]
            report.append(stats)
            print(
                f"{level:>3} kiosks: {stats['per_second']:7.0f} admissions/s  "
                f"p50 {stats['p50_ms']:6.1f} ms  p99 {stats['p99_ms']:6.1f} ms  "
                f"max {stats['max_ms']:6.1f} ms  "
                f"({stats['requests']} scans in {stats['seconds']:.1f}s: {stats['results']})\n"
                f"            {cpu} per scan; {pace}",
                flush=True,
            )
        time.sleep(1.0)
    finally:
        live.running = False
        stop_gunicorn(server)
    admitted_rows, doubled = verify(args)
    # wrk stops on the clock: each kiosk may have one scan on the wire whose answer it never reads.
    unread, at_most = admitted_rows - answered_ok, sum(levels) if args.driver == "wrk" else 0
    print(
        f"'ok' answers: {answered_ok}; admitted rows in the database: {admitted_rows} "
        f"({unread} admitted as the driver stopped, answers unread; at most {at_most}, one per kiosk); "
        f"tickets admitted twice: {doubled}"
    )
    if doubled or not 0 <= unread <= at_most:
        raise SystemExit("MISMATCH: admitted rows and 'ok' answers disagree")
    print(f"live 'checkin' messages published via Redis (one per admission, a few more): {live.count}")
    print(
        f"gunicorn: {args.workers} process(es) x {args.threads} threads, gthread, "
        f"REQUEST_CONCURRENCY={_env(args)['REQUEST_CONCURRENCY']}; cores: {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
