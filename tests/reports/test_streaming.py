"""Large exports stream: the first bytes leave at once and memory does not grow with the rows."""

from __future__ import annotations

import time
import tracemalloc

import pytest

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


def _download(client, url: str) -> tuple[float, float, int, int]:
    """(seconds to the first chunk, seconds in all, bytes, peak traced memory while streaming)."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    chunks = iter(response.response)
    size = len(next(chunks))
    first = time.perf_counter() - started
    for chunk in chunks:
        size += len(chunk)
    total = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    response.close()
    assert response.status_code == 200
    return first, total, size, peak


def test_csv_export_memory_stays_flat_as_rows_grow(client, world, monkeypatch):
    monkeypatch.setitem(client.application.config, "REPORTS_STREAM_BATCH", 500)
    school = world.school(world.a)
    event = world.event(world.a, capacity=100)
    login(client, world.user(world.a)[0])
    url = "/yaroslavl/reports/participants.csv"
    _seed(world, event, school, 1_000)
    _, _, small_size, small_peak = _download(client, url)
    _seed(world, event, school, 9_000)
    first, total, size, peak = _download(client, url)
    assert size > 9 * small_size  # ten times the rows went out…
    assert peak < small_peak + 4 * 2**20, (small_peak, peak)  # …in about the same memory
    assert peak < 16 * 2**20
    assert first < total / 5, (first, total)  # the header left before the rows were read


def test_xlsx_export_memory_stays_flat_as_rows_grow(client, world, monkeypatch):
    monkeypatch.setitem(client.application.config, "REPORTS_STREAM_BATCH", 200)
    school = world.school(world.a)
    event = world.event(world.a, capacity=100)
    login(client, world.user(world.a)[0])
    url = "/yaroslavl/reports/participants.xlsx"
    _seed(world, event, school, 300)
    _, _, small_size, small_peak = _download(client, url)
    _seed(world, event, school, 2_700)
    _, _, size, peak = _download(client, url)
    assert size > 5 * small_size
    assert peak < small_peak + 4 * 2**20, (small_peak, peak)
