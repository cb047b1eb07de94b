"""`flask worker`: the process that runs queued and periodic jobs (mail, reminders)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--threads", type=int, default=None, help="Worker threads (default WORKER_THREADS, 4).")
@click.option("--no-periodic", is_flag=True, help="Do not run periodic jobs (another worker runs them).")
@with_appcontext
def worker_command(threads: int | None, no_periodic: bool) -> None:
    """Run the job consumer until Ctrl+C / SIGTERM (SQLite queue in instance/, or Redis with REDIS_URL)."""
    from server.jobs import huey

    if huey.immediate:
        raise click.ClickException("the job queue is in immediate mode (tests): nothing to consume")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    consumer = huey.create_consumer(
        workers=threads or current_app.config["WORKER_THREADS"],
        worker_type="thread",
        periodic=not no_periodic,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=1.0,
        check_worker_health=True,
    )
    click.echo(f"propusk worker: {type(huey.storage).__name__}, periodic={'off' if no_periodic else 'on'}")
    consumer.run()
