"""SMTP from MAIL_URL, with the standard library: smtplib and email.message.EmailMessage.

`smtp://user:pass@host:587?starttls=1` (or `smtps://…:465`, `?timeout=20`). One connection per worker
thread, reused across messages and reopened when the server dropped it.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from server.database import utcnow
from server.mail.models import OutgoingMail


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    ssl: bool
    starttls: bool
    timeout: float

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("MAIL_URL must start with smtp:// or smtps://")
        query = parse_qs(parts.query)
        secure = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if secure else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=secure,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            timeout=float(query.get("timeout", ["20"])[0]),
        )


def _address(display_name: str | None, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=display_name or "", username=local, domain=domain)


def build_message(mail: OutgoingMail, sender_address: str, default_sender_name: str) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative, attachments; the library does the encoding."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = _address(mail.sender_name or default_sender_name, sender_address)
    message["To"] = _address(mail.to_name, mail.to_address)
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        if maintype == "text":  # as text with charset=utf-8, or the Cyrillic in an .ics arrives garbled
            message.add_attachment(
                attachment.content.decode("utf-8"), subtype=subtype, filename=attachment.filename
            )
        else:
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
    return message


class SmtpSender:
    """Sends EmailMessages over one reused connection per thread."""

    def __init__(self, url: str) -> None:
        self.target = SmtpTarget.parse(url)
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []  # every thread's connection, so close_all can quit them
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        if t.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                t.host, t.port, timeout=t.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
            if t.starttls:
                client.starttls(context=ssl.create_default_context())
        if t.username:
            client.login(t.username, t.password or "")
        with self._lock:
            self._open.append(client)
        return client

    def send(self, message: EmailMessage) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            try:
                client.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self.close()
        self._local.client = self._connect()
        self._local.client.send_message(message)

    def close(self) -> None:
        """Close this thread's connection."""
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            self._quit(client)

    def close_all(self) -> None:
        """Close every thread's connection (worker shutdown, tests)."""
        with self._lock:
            clients, self._open = self._open, []
        for client in clients:
            self._quit(client)

    def _quit(self, client: smtplib.SMTP) -> None:
        with self._lock:
            if client in self._open:
                self._open.remove(client)
        try:
            client.quit()
        except Exception:
            client.close()


_senders: dict[str, SmtpSender] = {}
_lock = threading.Lock()


def sender_for(url: str) -> SmtpSender:
    with _lock:
        if url not in _senders:
            _senders[url] = SmtpSender(url)
        return _senders[url]
