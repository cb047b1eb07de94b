"""Pages of this capability (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("tickets_views", __name__)
