"""Flask's signed-cookie session, without building its signer for requests that carry no cookie.

Kiosks and API clients authenticate with bearer tokens and never send one, and the door's scan is the
busiest request there is. (Saving stays as it is: Flask-Login looks at every session, so Flask adds
`Vary: Cookie` to every response, as it should.)
"""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
