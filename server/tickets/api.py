"""API v1 routes of this capability (filled in by its issue)."""

from server.api import api_blueprint

bp = api_blueprint("tickets_api", __name__)
