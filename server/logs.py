"""Nothing personal in logs: every log record of the process is redacted as it is made.

The database never gets its bound parameters printed (`hide_parameters`, server/config.py); what is
left is free text that can still carry them: the request line (a ticket page's token, a kiosk's
search in a query string), PostgreSQL's DETAIL of a constraint (`Key (...)=(...)`, `Failing row
contains (...)`), an address or a phone in a message. A log record factory rewrites the message and
the traceback text once, at creation, so every handler (gunicorn's, Werkzeug's, pytest's) gets the
same redacted record.
"""

from __future__ import annotations

import logging
import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/t/)[A-Za-z0-9_-]{8,}"), r"\1[token]"),
    (re.compile(r"(/[^\s?\"']*)\?[^\s\"']+"), r"\1?[query]"),
    (re.compile(r"\b[A-Z2-7]{100,}\b"), "[code]"),
    (re.compile(r"(\)=\()[^\n]*"), r"\1[hidden])"),
    (re.compile(r"(Failing row contains \()[^\n]*"), r"\1[hidden])"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w.:-])\+?[78][\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?![\w-])"), "[phone]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def install() -> None:
    """Wrap the process's log record factory once (idempotent: every app shares the process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "propusk_redacting", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    factory.propusk_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
