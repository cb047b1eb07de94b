"""The kiosk: the door's web page, its service worker and manifest.

The page is a static shell (no personal data, no tenant in the URL): the device pairs once with a
code, keeps its bearer token in localStorage and talks to `server.checkins.api`. The service worker
caches the shell and its scripts so a reload with the venue's Wi-Fi down still opens the kiosk.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, make_response, render_template, url_for

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

HERE = Path(__file__).resolve().parent
ASSETS = (
    ("kiosk.static", "kiosk.css"),
    ("kiosk.static", "kiosk.js"),
    ("kiosk.static", "store.js"),
    ("kiosk.static", "offline.js"),
    ("kiosk.static", "camera.js"),
    ("kiosk.static", "sound.js"),
    ("kiosk.static", "icon.svg"),
    ("static", "vendor/jsqr/jsQR.js"),
    ("static", "vendor/noble-ed25519/ed25519.js"),
)


@cache
def _assets_version(root: str) -> str:
    """Changes whenever a cached asset changes, so tablets pick up a new kiosk on next load."""
    digest = hashlib.sha256()
    for endpoint, filename in ASSETS:
        folder = HERE / "static" if endpoint == "kiosk.static" else Path(root) / "static"
        digest.update((folder / filename).read_bytes())
    digest.update((HERE / "templates" / "kiosk" / "page.html").read_bytes())
    return digest.hexdigest()[:12]


@bp.get("")
def page():
    response = make_response(render_template("kiosk/page.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    urls = [url_for("kiosk.page")] + [url_for(e, filename=f) for e, f in ASSETS]
    urls.append(url_for("kiosk.manifest"))
    body = render_template(
        "kiosk/sw.js", urls=urls, version=_assets_version(str(Path(current_app.root_path).parent))
    )
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    # The worker lives under /kiosk/ but must control the page /kiosk itself.
    response.headers["Service-Worker-Allowed"] = url_for("kiosk.page")
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = make_response(render_template("kiosk/manifest.webmanifest"))
    response.headers["Content-Type"] = "application/manifest+json"
    return response
