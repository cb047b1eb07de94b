"""Large exports stream: the first bytes leave at once and memory does not grow with the rows."""

from __future__ import annotations

import io
import tempfile
import time
import tracemalloc

import pytest
from openpyxl import load_workbook

from bench.exports import bulk_participants
from server.catalog.models import School
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.conftest import POSTGRES, login

# PostgreSQL streams over a server-side cursor; it is also where 20,000 rows are seeded and wiped fast.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not POSTGRES, reason="PostgreSQL: server-side cursor")]


def _seed(world, event_id: int, school_id: int, n: int) -> None:
    with world.app.app_context(), tenant_scope(world.a.id):
        school = db.session.get(School, school_id)
        seats = [(event_id, school.id, school.municipality_id)] * n
        bulk_participants(world.a.id, seats, admitted_every=2, surname=f"Поток{n}")


def _download(client, url: str) -> tuple[float, float, int, int, bytes]:
    """(seconds to the first chunk, seconds in all, bytes, peak traced memory while streaming, the
    file). The chunks go to a file on disk as they come: the memory measured is the server's alone."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    chunks = iter(response.response)
    with tempfile.TemporaryFile() as received:
        size = received.write(next(chunks))
        first = time.perf_counter() - started
        for chunk in chunks:
            size += received.write(chunk)
        total = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        response.close()
        received.seek(0)
        body = received.read()
    assert response.status_code == 200
    return first, total, size, peak, body


def _rows_in(fmt: str, body: bytes) -> int:
    """Data rows in a downloaded file (header and totals row left out)."""
    if fmt == "csv":
        return len(body.decode("utf-8-sig").splitlines()) - 2
    sheet = load_workbook(io.BytesIO(body), read_only=True)["Участники"]
    return sum(1 for _ in sheet.iter_rows(values_only=True)) - 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_starts_at_once_and_memory_stays_flat_as_rows_grow(client, world, monkeypatch, fmt):
    monkeypatch.setitem(client.application.config, "REPORTS_STREAM_BATCH", 500)
    school = world.school(world.a)
    event = world.event(world.a, capacity=100)
    login(client, world.user(world.a)[0])
    url = f"/yaroslavl/reports/participants.{fmt}"
    _seed(world, event, school, 1_000)
    _, _, small_size, small_peak, small_body = _download(client, url)
    _seed(world, event, school, 9_000)
    first, total, size, peak, body = _download(client, url)
    assert (_rows_in(fmt, small_body), _rows_in(fmt, body)) == (1_000, 10_000)  # ten times the rows…
    assert size > 5 * small_size
    assert peak < small_peak + 4 * 2**20, (small_peak, peak)  # …went out in about the same memory
    assert peak < 16 * 2**20
    assert first < total / 5, (first, total)  # the first bytes left before the rows were read
