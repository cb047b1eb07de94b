"""Flask's signed-cookie session, with no work for requests that carry no cookie.

Kiosks and API clients authenticate with bearer tokens and never send one, and the door's scan is the
busiest request there is: building the signer and reading cookie settings there is pure waste.
"""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # nothing to set, to delete or to vary on
        super().save_session(app, session, response)
