"""Reading the letters accounts send (from the shared outbox) and the links in them."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.mail.models import OutgoingMail

LINK = re.compile(r"https?://\S+/(?:invite|password/reset)/[A-Za-z0-9_\-]+")


def letters(app, to: str | None = None, kind: str | None = None) -> list[OutgoingMail]:
    with app.app_context():
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        if to:
            query = query.where(OutgoingMail.to_address == to)
        if kind:
            query = query.where(OutgoingMail.kind == kind)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def link_in(text: str) -> str:
    """The path of the one-time link in a letter (the test client speaks paths)."""
    found = LINK.search(text)
    assert found, text
    return "/" + found.group(0).split("/", 3)[3]


def last_link(app, to: str) -> str:
    sent = letters(app, to)
    assert sent, f"no letter to {to}"
    return link_in(sent[-1].body_text)


def accept(client, path: str, password: str = "long-unusual-phrase-42", name: str = "") -> object:
    return client.post(path, data={"full_name": name, "password": password, "confirm": password})
