"""The kiosk: the door's web page (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__)
