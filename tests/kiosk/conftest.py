"""Kiosk tests pair many devices from one address; the pairing rate limit is tested on its own."""

import pytest


@pytest.fixture(autouse=True)
def _generous_pairing_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "KIOSK_PAIR_RATE_LIMIT", "100000 per minute")
