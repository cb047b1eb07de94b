"""Instructions per registration and per scan, counted by valgrind: a figure the machine's hour can't move.

Throughput on this shared two-core machine swings by half from one hour to the next, so two versions
of the code are only comparable when their runs are interleaved. Counting instructions is not: under
`valgrind --tool=callgrind` the same code, data and inputs give the same count, whatever else runs.

    DATABASE_URL=postgresql://postgres@127.0.0.1/propusk_instructions .venv/bin/python bench/instructions.py

(`apt-get install valgrind`; it DROPS and rebuilds the schema of the database it is given.) For each of
registrations and scans it seeds a fresh database, runs N and then 3N requests in-process through the
WSGI app (Flask's test client, the real PostgreSQL and Redis if REDIS_URL is set) under callgrind, and
prints (I(3N) - I(N)) / 2N: start-up, seeding and warm-up cancel out. Only the Python process is
counted, not PostgreSQL, and the test client's own share is in the figure (the same for every version).

Live messages are emitted (and published to Redis) in the request's own thread, one by one, with no
coalescing: in production a sender thread gathers them on a timer, and how many it finds each time
depends on thread timing, which made the count move by a tenth from run to run. The count is the
whole process's; the request thread's share is printed beside it. Caches that refresh on the clock
(the region, the signing keys, a kiosk's "last seen") are kept for the run, and string hashing is
seeded, so that the same code gives the same count.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import letters  # noqa: E402

WARMUP = 50  # requests before the counted ones, so that caches and prepared statements are warm
DAY = 86_400


def seed(kind: str, database_url: str, count: int) -> dict:
    """A fresh schema and what `count` measured requests (plus the warm-up) need."""
    if kind == "scans":
        from bench.checkins import reset_and_seed

        args = argparse.Namespace(
            database_url=database_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
            tickets=count + WARMUP,
            kiosks=1,
            workers=1,
            threads=1,
        )
        slug, tokens, codes = reset_and_seed(args)
        return {"path": f"/api/v1/{slug}/checkins", "token": tokens[0], "codes": codes}
    from bench.registrations import _seed

    event_id, warmup_id, school_ids = _seed(database_url, count + WARMUP, 20)
    path = "/api/v1/yaroslavl/events/{}/registrations"
    return {"path": path.format(event_id), "warmup_path": path.format(warmup_id), "schools": school_ids}


def run(kind: str, data: dict, count: int) -> None:
    """`count` requests after the warm-up, in this process (the one valgrind counts)."""
    from server import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
            "REGISTRATION_RATE_LIMIT": "1000000 per minute",
            # Refreshed once per so many seconds: at the door's pace, once in thousands of scans; under
            # valgrind, once in a few dozen, as often as the slowed clock says. Not in the count.
            "TENANT_CACHE_SECONDS": DAY,
            "SIGNING_KEY_CACHE_SECONDS": DAY,
            "KIOSK_SEEN_EVERY_SECONDS": DAY,
        }
    )
    client = app.test_client()
    from server.live import publish

    publish.sender.submit = publish.sender.deliver_inline  # type: ignore[method-assign]
    if kind == "scans":
        headers = {"Authorization": f"Bearer {data['token']}"}
        for code in data["codes"][: WARMUP + count]:
            answer = client.post(
                data["path"], json={"code": code, "scan_id": uuid.uuid4().hex}, headers=headers
            )
            assert answer.get_json()["result"] == "ok", answer.get_data(as_text=True)
        return
    for n in range(WARMUP + count):
        body = {
            "student": {
                "last_name": f"Ученик{letters(n)}",
                "first_name": "Иван",
                "grade": 9,
                "school_id": data["schools"][n % len(data["schools"])],
            },
            "guardian": {"name": "Родитель", "phone": "+79000000000"},
            "consent": True,
        }
        path = data["warmup_path"] if n < WARMUP else data["path"]
        answer = client.post(path, json=body)
        assert answer.status_code == 201, answer.get_data(as_text=True)


def counted(kind: str, database_url: str, count: int) -> tuple[int, int]:
    """Instructions of one whole run of `count` requests under callgrind: the process's, the main thread's."""
    data = seed(kind, database_url, count)
    with tempfile.TemporaryDirectory() as folder:
        data_file = Path(folder, "data.json")
        data_file.write_text(json.dumps(data))
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SECRET_KEY="bench-not-secret",
            PROPUSK_ENV="production",
            LIVE_COALESCE_SECONDS="0",
            PYTHONHASHSEED="0",  # sets and dicts of strings in the same order every run
        )
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes", "--dump-instr=no"]
            + [f"--callgrind-out-file={folder}/out", sys.executable, __file__]
            + ["--run", kind, "--count", str(count), "--data", str(data_file)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if done.returncode != 0 or found is None:
            raise SystemExit(f"the counted run failed:\n{done.stderr[-2000:]}")
        main_thread = re.search(r"^(?:summary|totals):\s+(\d+)", Path(folder, "out-01").read_text(), re.M)
        assert main_thread is not None, "callgrind wrote no main-thread total"
        return int(found.group(1).replace(",", "")), int(main_thread.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=150, help="N: the runs make N and 3N requests")
    parser.add_argument("--only", choices=("registrations", "scans"))
    parser.add_argument("--run", choices=("registrations", "scans"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run, json.loads(Path(args.data).read_text()), args.count)
        return
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")  # before the config is first imported
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database it may reset")
    for kind in (args.only,) if args.only else ("registrations", "scans"):
        small, large = (counted(kind, database_url, n) for n in (args.count, 3 * args.count))
        per, thread = ((b - a) / (2 * args.count) / 1e6 for a, b in zip(small, large, strict=True))
        print(
            f"{kind}: {per:.3f} million instructions per request, {thread:.3f} of them in the request's "
            f"thread (N={args.count})",
            flush=True,
        )


if __name__ == "__main__":
    main()
