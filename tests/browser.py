"""Headless Chromium for the browser tests: Debian's binary, the flags this machine needs, screenshots.

The `browser` fixture (tests/conftest.py) launches it; a test module opts in with
`pytestmark = needs_chromium`, and is skipped where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# No sandbox (root in CI); no background networking (the machine's closed network refuses it).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
# The README's screenshots are refreshed on purpose (UPDATE_SCREENSHOTS=1); an ordinary run writes its
# copies to a temporary folder, so running the tests leaves the working tree as it was.
SHOTS = (
    Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "propusk-screenshots"
)

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium"),
]


def shot(page, name: str) -> None:
    """A screenshot of what the test sees: <SHOTS>/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def sign_in(page, live_server: str, email: str) -> None:
    """The login form, as a person fills it."""
    from tests.conftest import PASSWORD

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
