"""Configuration from the environment. Production refuses to start without a real SECRET_KEY."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from server.tickets.sealing import DEVELOPMENT_KEY

ROOT = Path(__file__).resolve().parent.parent


def normalise_database_url(url: str) -> str:
    """Users paste `postgres://` or `postgresql://`; we always drive PostgreSQL with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Seals the tickets' private signing keys in the database (server/tickets/sealing.py): 32 random
    # bytes, url-safe base64; several comma-separated while rotating it (the first seals).
    KEY_ENCRYPTION_KEY = os.environ.get("KEY_ENCRYPTION_KEY")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'propusk.sqlite'}"
    )
    # No pre-ping: it is a round trip on every request, and a connection the database dropped is
    # detected on use anyway (SQLAlchemy then empties the pool; that one request fails).
    # hide_parameters: a database error never prints the values it was given (names, phones, codes).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {
        "pool_pre_ping": os.environ.get("DATABASE_PRE_PING") == "1",
        "hide_parameters": True,
    }
    # PostgreSQL connections per process: enough for the threads that query at once, so a busy
    # door never waits for a connection (the library default, 5 + 10, made 32 kiosks queue).
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "20"))
    DATABASE_MAX_OVERFLOW = int(os.environ.get("DATABASE_MAX_OVERFLOW", "20"))
    # Ordinary requests running the app at once per process (server/concurrency.py); 0: unbounded.
    REQUEST_CONCURRENCY = int(os.environ.get("REQUEST_CONCURRENCY", "4"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")

    # Bodies are read whole (JSON, forms): nothing we accept is bigger, save the class list upload,
    # which says so itself (`security.body_limit`). Bigger: 413, in the SPEC's JSON under /api/.
    MAX_CONTENT_LENGTH = 256 * 1024

    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("ru", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")

    WTF_CSRF_TIME_LIMIT = 12 * 3600  # a registration desk keeps a page open all day
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Werkzeug's default scrypt is n=2**15; we raise the cost for stored passwords.
    PASSWORD_METHOD = "scrypt:65536:8:1"

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Redis down must not take logins, pairing and registration down with it: limits are then counted
    # in this process's memory (per process, so looser with several) until Redis answers again, and a
    # Redis that does not answer is given up on within half a second.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    REGISTRATION_RATE_LIMIT = os.environ.get("REGISTRATION_RATE_LIMIT", "20 per minute")
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host we believe (nginx: 1). Rate
    # limits are per client address; behind a proxy that is not trusted every client looks the same.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    LOGIN_RATE_LIMIT = "10 per minute"
    FIND_TICKET_RATE_LIMIT = "5 per minute"  # «Найти мой билет» per client address
    # Failed logins per account (whatever the client): guessing one person's password from many
    # addresses. The same for an unknown address, so the limit says nothing about who exists.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute; 20 per hour")
    # «Забыли пароль?» per client; per address at most RESET_PER_ADDRESS_PER_HOUR letters (silently).
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per 15 minutes")
    RESET_PER_ADDRESS_PER_HOUR = 3
    RESET_LINK_HOURS = 2
    INVITATION_HOURS = 48
    REMEMBER_DAYS = min(int(os.environ.get("REMEMBER_DAYS", "30")), 30)
    KIOSK_PAIR_RATE_LIMIT = "10 per minute"
    # Per kiosk: staff look up the odd student who forgot the ticket, nobody pages through the day.
    KIOSK_SEARCH_RATE_LIMIT = os.environ.get("KIOSK_SEARCH_RATE_LIMIT", "20 per minute; 200 per hour")

    SOCKETIO_MESSAGE_QUEUE = REDIS_URL

    # Outgoing mail (server/mail): SMTP when MAIL_URL is set, else kept in the outbox for the admin page.
    MAIL_URL = os.environ.get("MAIL_URL") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@propusk.local")
    MAIL_SENDER_NAME = os.environ.get("MAIL_SENDER_NAME", "Пропуск")
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "6"))
    MAIL_RETRY_BASE_SECONDS = float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "30"))
    # Per region, across all workers; 0: unbounded. Each message takes the region's next slot.
    MAIL_RATE_PER_MINUTE = int(os.environ.get("MAIL_RATE_PER_MINUTE", "600"))
    # Job queue (server/jobs): None → immediate in tests, a real queue elsewhere.
    HUEY_IMMEDIATE: bool | None = None
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH") or None  # default: instance/huey.sqlite
    HUEY_NAME = os.environ.get("HUEY_NAME", "propusk")  # the queue's name (Redis keys, SQLite rows)
    WORKER_THREADS = int(os.environ.get("WORKER_THREADS", "4"))
    # Each WebSocket holds a worker thread for its life (server/live/guard.py): sessions per process
    # stay below the threads, so a quarter of them always serve pages, logins and kiosks.
    SOCKETIO_MAX_CONNECTIONS = int(
        os.environ.get("SOCKETIO_MAX_CONNECTIONS")
        or int(os.environ.get("GUNICORN_THREADS", "400")) * 3 // 4
    )
    SOCKETIO_MAX_PER_CLIENT = int(os.environ.get("SOCKETIO_MAX_PER_CLIENT", "20"))
    SOCKETIO_JOIN_SECONDS = float(os.environ.get("SOCKETIO_JOIN_SECONDS", "5"))
    TENANT_CACHE_SECONDS = 30
    SIGNING_KEY_CACHE_SECONDS = 10
    # Personal data of a season is erased this many days after it ends (31 August), by the daily job.
    RETENTION_GRACE_DAYS = int(os.environ.get("RETENTION_GRACE_DAYS", "30"))
    KIOSK_SEEN_EVERY_SECONDS = 60
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    """The embedded default: one process, SQLite, a throwaway key so `flask run` just works."""

    DEBUG = True
    SECRET_KEY = Config.SECRET_KEY or "dev-only-not-secret"
    KEY_ENCRYPTION_KEY = Config.KEY_ENCRYPTION_KEY or DEVELOPMENT_KEY


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    KEY_ENCRYPTION_KEY = Config.KEY_ENCRYPTION_KEY or DEVELOPMENT_KEY
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL") or "sqlite:///:memory:")
    WTF_CSRF_ENABLED = False
    PASSWORD_METHOD = "pbkdf2:sha256:1000"  # fast hashing in tests only
    RATELIMIT_STORAGE_URI = "memory://"
    # Limits stay on (Flask-Limiter cannot be switched on later) but out of the way; tests that
    # exercise a limit lower it in app.config for their duration.
    LOGIN_RATE_LIMIT = "100000 per minute"
    LOGIN_ACCOUNT_RATE_LIMIT = "100000 per minute"
    RESET_RATE_LIMIT = "100000 per minute"
    KIOSK_PAIR_RATE_LIMIT = "100000 per minute"
    KIOSK_SEARCH_RATE_LIMIT = "100000 per minute"
    # Every test's sockets come from 127.0.0.1 and the session's app lives through all of them; the
    # guard's own tests set their limits (tests/hardening/test_socket_guard.py).
    SOCKETIO_MAX_PER_CLIENT = 100_000
    SOCKETIO_MAX_CONNECTIONS = 100_000
    TENANT_CACHE_SECONDS = 0  # tests recreate regions (and their keys) constantly
    SIGNING_KEY_CACHE_SECONDS = 0
    REGISTRATION_RATE_LIMIT = "100000 per minute"
    FIND_TICKET_RATE_LIMIT = "100000 per minute"
    # Unbounded: the race tests send 20+ requests at once and every one must be inside the app together.
    REQUEST_CONCURRENCY = 0
    MAIL_URL = None  # a test that sends over SMTP sets it to its own aiosmtpd server
    MAIL_RATE_PER_MINUTE = 0


class ProductionConfig(Config):
    pass


def load(name: str | None) -> type[Config]:
    name = name or os.environ.get("PROPUSK_ENV", "production")
    return {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}[name]
