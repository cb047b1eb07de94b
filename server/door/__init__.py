"""The door: the one implementation of a kiosk's scan, `POST /api/v1/<region>/checkins`.

`app.DoorApp` is a small WSGI app mounted in front of Flask by `create_app` (`mount`); it alone
answers that endpoint, its region, kiosk, errors, headers and transaction in one place. Why it is not
a Flask view, and what that costs and buys: `docs/adr/0001-door.md`. The door's rules themselves are
`server.checkins.rules`, shared with every other admission path.
"""

from server.door.app import mount

__all__ = ["mount"]
