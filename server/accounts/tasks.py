"""Background work of accounts: the reset letter is looked up and written by the worker, so the
«Забыли пароль?» request does the same thing (enqueue) whether or not the address exists."""

from __future__ import annotations

from server.accounts import recovery
from server.jobs import app_task


@app_task(retries=2, retry_delay=30)
def send_reset_link(email: str) -> None:
    recovery.request_reset(email)
