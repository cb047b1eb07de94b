"""The logs of a whole test run, scanned for the test data's personal data (issue 21, point 5).

Every log record of the run (a handler on the root logger) and every test's captured output are kept;
before each test's database is wiped, the names, phones, e-mails, ticket codes and page tokens it held
are remembered. At the end of the session no remembered value may appear as a word in anything kept.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import text

_texts: list[tuple[str, str]] = []
_personal: dict[str, str] = {}
_running = ["(collection)"]
_WORDS = re.compile(r"[\w@.+-]+")


class _Collector(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            return
        if record.exc_text:
            message += "\n" + record.exc_text
        elif record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        _texts.append((f"{_running[0]} log {record.name}", message))


def start() -> None:
    """Idempotent; called again after migrations (alembic's fileConfig replaces the root's handlers)."""
    root = logging.getLogger()
    if not any(isinstance(handler, _Collector) for handler in root.handlers):
        root.addHandler(_Collector(level=logging.NOTSET))


def now_running(nodeid: str) -> None:
    _running[0] = nodeid


def collect_sections(nodeid: str, report) -> None:
    for name, content in report.sections:
        _texts.append((f"{nodeid} {name}", content))


_QUERIES = {
    "student name": "SELECT last_name FROM students",
    "guardian name": "SELECT guardian_name FROM consents",
    "guardian phone": "SELECT guardian_phone FROM consents",
    "guardian e-mail": "SELECT guardian_email FROM consents",
    "ticket code": "SELECT code FROM tickets",
    "ticket page token": "SELECT access_token FROM tickets",
}


def remember_personal_data(app) -> None:
    from server.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        for kind, query in _QUERIES.items():
            for (value,) in connection.execute(text(query)):
                for word in _words_of(kind, value):
                    _personal.setdefault(word, kind)


def _words_of(kind: str, value: str | None) -> list[str]:
    if not value:
        return []
    if kind == "guardian phone":
        return [value, value.lstrip("+"), value[2:]]  # +79001234567, 79001234567, 9001234567
    if kind == "guardian name":
        return [w for w in value.split() if len(w) >= 4][:1]  # the surname
    return [value] if len(value) >= 4 else []


def leaks() -> list[tuple[str, str]]:
    found = []
    for where, content in _texts:
        for word in set(_WORDS.findall(content)) & _personal.keys():
            found.append((where, _personal[word]))
    return found
