"""Scan-to-dashboard latency: N dashboards connected while kiosks admit R tickets per second.

Run by hand (loopback only; stops what it starts):

    DATABASE_URL=postgresql://postgres@127.0.0.1/propusk_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/live.py --mode both

It upgrades the schema, adds a fresh benchmark region (nothing else is touched), seeds its tickets
(`bench.common.seed_tickets`, which leaves the database vacuumed and checkpointed), pairs one kiosk per
venue, starts `gunicorn wsgi:app` (`--mode 1`: one process without Redis; `2`: two alike processes
sharing Redis; `split`: a web process for the dashboards and an API process for the kiosks), connects
the dashboards as WebSocket clients speaking Socket.IO's wire protocol in a separate process, then
posts admissions to `POST /api/v1/<t>/checkins` at a fixed rate (open loop; the first second's scans
warm the server up and are not measured) and measures, for every (admission, dashboard) pair, the
time from sending the scan to the dashboard receiving its `checkin`.
The load generator and the dashboards run on the same machine as the servers: the figures include
their CPU use (pessimistic on 2 cores).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    free_port,
    machine_pace,
    open_day,
    post_json,
    seed_tickets,
    start_gunicorn,
    stop_gunicorn,
)

VENUES = 10
WARMUP_SECONDS = 1.0  # scans at the same rate before measuring, not counted
COALESCE_SECONDS = 0.05
SCHOOLS = 20
API_THREADS = "8"  # the kiosks' process in --mode split: no WebSockets, so few threads
API_CONCURRENCY = "2"  # and its REQUEST_CONCURRENCY, as the README's API pool runs


def prepare(database_url: str, tickets: int) -> dict:
    """A fresh region with venues, events, tickets, kiosks and a coordinator token."""
    from flask_migrate import upgrade

    from server import create_app
    from server.accounts.models import Role
    from server.accounts.services import create_user, issue_api_token
    from server.catalog import services as catalog
    from server.checkins import kiosks
    from server.database import utcnow
    from server.extensions import db
    from tenants.scoping import tenant_scope
    from tenants.services import create_tenant

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SOCKETIO_MESSAGE_QUEUE": None,
            "PASSWORD_METHOD": "pbkdf2:sha256:1000",
        }
    )
    started = time.monotonic()
    with app.app_context():
        upgrade()
        slug = f"bench-{secrets.token_hex(3)}"
        tenant = create_tenant(slug, name="Бенчмарк-область", timezone="Europe/Moscow")
        db.session.commit()
        email = f"{slug}@example.ru"
        create_user(email, password="bench-password-123", tenant=tenant, role=Role.COORDINATOR)
        token = issue_api_token(email)
        db.session.commit()
        tz, tenant_id = tenant.tz, tenant.id
        with tenant_scope(tenant.id):
            municipalities = [catalog.create_municipality(f"Район {i + 1}") for i in range(5)]
            db.session.flush()
            schools = [
                catalog.create_school(f"Школа № {i + 1}", municipalities[i % 5].id) for i in range(SCHOOLS)
            ]
            venues = [
                catalog.save_venue(None, name=f"Колледж {i + 1}", address="ул. Ленина, 1", cluster=None)
                for i in range(VENUES)
            ]
            db.session.flush()
            starts = utcnow() - timedelta(minutes=20)
            per_event = tickets // VENUES + 1
            events = []
            for i, venue in enumerate(venues):
                data = open_day(
                    f"День открытых дверей {i + 1}", venue.id, starts, starts + timedelta(hours=4), per_event
                )
                events.append(catalog.save_event(None, data, tz))
            db.session.flush()
            kiosk_codes = [kiosks.create_kiosk(venue.id, "Вход")[1] for venue in venues]
            db.session.commit()
            seats = [(events[n % VENUES], schools[n % SCHOOLS]) for n in range(tickets)]
            codes = seed_tickets(tenant.id, seats, surname="Бенчев")
            plan = [(n % VENUES, code) for n, code in enumerate(codes)]
        kiosk_tokens = []
        for code in kiosk_codes:
            kiosk_tokens.append(kiosks.pair_kiosk(code).token)
            db.session.commit()
    print(f"prepared region {slug}: {tickets} tickets in {time.monotonic() - started:.1f}s", flush=True)
    return {"slug": slug, "tenant_id": tenant_id, "token": token, "kiosks": kiosk_tokens, "plan": plan}


def start_server(
    port: int,
    database_url: str,
    redis_url: str | None,
    threads: str = "400",
    workers: str = "1",
    concurrency: str | None = None,
) -> subprocess.Popen:
    env = {
        **os.environ,
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": database_url,
        "PROPUSK_ENV": "production",
        "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS", threads),  # web: one thread per WebSocket
        "GUNICORN_WORKERS": workers,
        "LIVE_COALESCE_SECONDS": str(COALESCE_SECONDS),
    }
    env.pop("REDIS_URL", None)
    if concurrency is not None:
        env["REQUEST_CONCURRENCY"] = concurrency
    if redis_url:
        env["REDIS_URL"] = redis_url
    return start_gunicorn(port, env)


def dashboards(urls: list[str], count: int, slug: str, token: str, ready, stop, out) -> None:
    """Child process: `count` WebSocket dashboards spread over `urls`; reports receive times.

    Speaks the Socket.IO wire protocol (Engine.IO 4) over plain WebSockets, all in one thread with a
    selector: a python-socketio Client costs ~0.6 ms of CPU per received message (a few threads per
    client), which on 2 shared cores would measure the load generator rather than the server.
    """
    import json
    import selectors

    import websocket

    received: list[tuple[int, int, float, float]] = []  # (dashboard, ticket, t_received, ms since stamp)
    raw: list[tuple[int, float, float, str]] = []
    selector = selectors.DefaultSelector()
    sockets = []
    for i in range(count):
        host = urls[i % len(urls)].removeprefix("http://")
        ws = websocket.create_connection(
            f"ws://{host}/socket.io/?EIO=4&transport=websocket",
            timeout=20,
            # its UTF-8 check is a pure-Python loop per byte (~1 ms a batch): decoding checks anyway
            skip_utf8_validation=True,
        )
        assert ws.recv().startswith("0")  # Engine.IO open
        ws.send("40/live," + json.dumps({"token": token, "tenant": slug, "batch": True}))
        answer = ws.recv()
        while answer.startswith("42/live,"):  # the snapshot may come ahead of the connect answer
            answer = ws.recv()
        if not answer.startswith("40/live,"):
            raise SystemExit(f"dashboard {i} refused: {answer[:200]}")
        sockets.append(ws)
        selector.register(ws.sock, selectors.EVENT_READ, (i, ws))
    ready.set()
    prefix = "42/live,"
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.2):
            i, ws = key.data
            try:
                text = ws.recv()
            except Exception:
                selector.unregister(key.fileobj)
                continue
            if text == "2":
                ws.send("3")  # Engine.IO ping → pong
            elif text.startswith(prefix):
                raw.append((i, time.monotonic(), time.time(), text))  # parsed after the run
    for i, now, wall, text in raw:  # parsing here, not while receiving: the client must not lag
        name, data = json.loads(text[len(prefix) :])
        batch = data if name == "checkins" else [data] if name == "checkin" else []
        for item in batch:
            stamp = datetime.fromisoformat(item["at"]).timestamp()
            received.append((i, item["ticket_id"], now, (wall - stamp) * 1000))
    out.put(received)
    for ws in sockets:
        ws.close(timeout=0.1)


def run(mode: str, data: dict, args, database_url: str, redis_url: str | None) -> None:
    import http.client

    processes = 1 if mode == "1" else 2
    ports = [free_port() for _ in range(processes)]
    use_redis = processes == 2 or args.source == "queue"
    # split: the README's layout, a web process for the dashboards and an API process for the kiosks
    threads = ["400", API_THREADS] if mode == "split" else ["400"] * processes
    workers = ["1", str(args.api_workers)] if mode == "split" else ["1"] * processes
    concurrency = [None, API_CONCURRENCY] if mode == "split" else [None] * processes
    servers = [
        start_server(port, database_url, redis_url if use_redis else None, n, w, c)
        for port, n, w, c in zip(ports, threads, workers, concurrency, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    dashboard_urls, kiosk_urls = (urls[:1], urls[1:]) if mode == "split" else (urls, urls)
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(
        target=dashboards,
        args=(dashboard_urls, args.dashboards, data["slug"], data["token"], ready, stop, out),
    )
    try:
        child.start()
        while not ready.wait(1):
            if not child.is_alive():
                raise SystemExit("dashboards did not connect")
        time.sleep(1)
        total = min(int(args.rate * args.seconds), len(data["plan"]))
        plan = data["plan"][:total]
        sent: dict[int, float] = {}
        answers: list[float] = []
        failures = 0
        local = threading.local()

        publisher = None
        if args.source == "queue":
            import socketio

            from server.extensions import socketio as app_socketio
            from server.live import publish as live_publish

            publisher = socketio.RedisManager(redis_url, channel="flask-socketio", write_only=True)

            class QueueOnly:
                """This process's live sender publishes to Redis only, as a server process would."""

                manager = publisher

                def emit(self, name, payload, to=None, namespace=None, ignore_queue=False):
                    if not ignore_queue:  # no dashboards here: only the other processes' copies matter
                        publisher.emit(name, payload, namespace=namespace, room=to)

            app_socketio.server = QueueOnly()
            live_publish.COALESCE = args.coalesce

        def publish(index: int) -> None:
            """Fan-out only: a committed admission's `checkin` through the real live sender."""
            due = t0 + index / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            payload = {"ticket_id": index, "at": datetime.now(UTC).isoformat()}
            rooms = (live_publish.tenant_room(data["tenant_id"]),)
            live_publish.sender.submit(live_publish.LiveMessage("checkin", payload, rooms))
            answers.append(time.monotonic() - began)
            sent[index] = began

        def admit(job: tuple[int, int, str, bool]) -> None:
            nonlocal failures
            index, venue, code, measured = job
            due = t0 + index / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            url = kiosk_urls[index % len(kiosk_urls)]
            # a kept-alive connection per thread and server
            connections = getattr(local, "connections", None)
            if connections is None:
                connections = local.connections = {}
            if url not in connections:
                host, port = url.removeprefix("http://").split(":")
                connections[url] = http.client.HTTPConnection(host, int(port), timeout=30)
            connection = connections[url]
            began = time.monotonic()
            _, body = post_json(
                connection,
                f"/api/v1/{data['slug']}/checkins",
                {"code": code},
                {"Authorization": f"Bearer {data['kiosks'][venue]}"},
            )
            if not measured:
                return
            answers.append(time.monotonic() - began)
            if body.get("result") != "ok":
                failures += 1
                return
            sent[body["ticket"]["id"]] = began

        pace = machine_pace()  # servers and dashboards connected, idle
        if publisher is not None:
            t0 = time.monotonic() + 0.2
            for index in range(total):
                publish(index)
        else:
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                # A warm server, as on open day: the first scans open database connections and
                # prepare statements (100+ ms each), which would be all of a short run's p99.
                t0 = time.monotonic() + 0.2
                list(pool.map(admit, [(i, *job, False) for i, job in enumerate(data["warmup"])]))
                t0 = time.monotonic() + 0.2
                list(pool.map(admit, [(i, *job, True) for i, job in enumerate(plan)]))
        elapsed = time.monotonic() - t0
        time.sleep(3)  # stragglers
        stop.set()
        received = out.get(timeout=60)
        child.join(30)

        latencies = [(at - sent[ticket]) * 1000 for _, ticket, at, _ in received if ticket in sent]
        fanout = sorted(since for _, ticket, _, since in received if ticket in sent)
        expected = len(sent) * args.dashboards
        latencies.sort()

        def pct(values: list[float], q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

        answers.sort()
        label = {
            "1": "1 process (no Redis)",
            "2": "2 processes + Redis",
            "split": (
                f"web process (dashboards) + API {args.api_workers} × {API_THREADS} threads (kiosks) + Redis"
            ),
        }[mode]
        if args.source == "queue":
            label = f"fan-out only, {processes} process(es) + Redis"
        label += f", coalesce {args.coalesce * 1000:.0f} ms"
        print(f"\n== {label}: {args.dashboards} dashboards, {args.rate}/s target, {total} admissions ==")
        print(f"admissions: {len(sent)} ok, {failures} refused, achieved {total / elapsed:.0f}/s")
        print(f"machine pace before the run: {pace:.0f} ms (bench.common.machine_pace)")
        print(f"scan request: p50 {pct(answers, 0.5) * 1000:.1f} ms, p99 {pct(answers, 0.99) * 1000:.1f} ms")
        print(f"deliveries: {len(latencies)} of {expected} ({100 * len(latencies) / max(expected, 1):.1f}%)")
        print(
            f"scan-to-dashboard: p50 {pct(latencies, 0.5):.1f} ms, p90 {pct(latencies, 0.9):.1f} ms, "
            f"p99 {pct(latencies, 0.99):.1f} ms, max {latencies[-1] if latencies else float('nan'):.1f} ms, "
            f"mean {statistics.fmean(latencies) if latencies else float('nan'):.1f} ms",
            flush=True,
        )
        print(
            f"server admission stamp-to-dashboard: p50 {pct(fanout, 0.5):.1f} ms, "
            f"p99 {pct(fanout, 0.99):.1f} ms",
            flush=True,
        )
    finally:
        stop.set()
        if child.is_alive():
            child.terminate()
        for server in servers:
            stop_gunicorn(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=("1", "2", "split", "both"),
        default="both",
        help="1: one process; 2: two alike + Redis; split: web + API process + Redis; both: 1 and 2",
    )
    parser.add_argument("--api-workers", type=int, default=1, help="--mode split: API processes")
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0, help="admissions per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=32, help="load generator threads")
    parser.add_argument(
        "--source",
        choices=("http", "queue"),
        default="http",
        help="http: real kiosk scans; queue: publish `checkin` straight to Redis (fan-out alone)",
    )
    parser.add_argument("--coalesce", type=float, default=0.05, help="LIVE_COALESCE_SECONDS (0: off)")
    args = parser.parse_args()
    global COALESCE_SECONDS
    COALESCE_SECONDS = args.coalesce
    # this run's own room namespace: other runs or installations on the same Redis stay out of it
    os.environ["LIVE_DEPLOYMENT"] = f"bench-{secrets.token_hex(4)}"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'bench-live.sqlite'}"
    redis_url = os.environ.get("REDIS_URL")
    modes = ["1", "2"] if args.mode == "both" else [args.mode]
    if ("2" in modes or "split" in modes or args.source == "queue") and not redis_url:
        raise SystemExit("two processes (and --source queue) need REDIS_URL")
    warmup = 0 if args.source == "queue" else int(args.rate * WARMUP_SECONDS)
    per_mode = int(args.rate * args.seconds) + warmup
    data = prepare(database_url, per_mode * len(modes))
    for n, mode in enumerate(modes):
        mine = data["plan"][n * per_mode : (n + 1) * per_mode]
        part = dict(data, warmup=mine[:warmup], plan=mine[warmup:])
        run(mode, part, args, database_url, redis_url)


if __name__ == "__main__":
    main()
