"""Pages of this capability (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("reports_views", __name__)
