"""The outbox: written with the change, sent after commit, once, over real SMTP; nothing lost or repeated."""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.database import AFTER_COMMIT, utcnow
from server.extensions import db
from server.mail import queue_mail
from server.mail.models import MailStatus, MailSuppression, OutgoingMail
from server.mail.tasks import deliver, due_for_sweep, sweep_outbox
from tenants.scoping import tenant_scope
from tests.conftest import login

PDF = b"%PDF-1.4 test ticket\n%%EOF\n"


def _queue(region_id: int, to: str = "Иванова Мария Петровна <maria@example.ru>", **extra):
    options = {
        "kind": "test",
        "key": f"test:{to}:{extra.pop('n', 1)}",
        "tenant_id": region_id,
    }
    options.update(extra)
    return queue_mail(
        to,
        "Билет на «День открытых дверей» — Иванов Иван",
        "test_message",
        {"name": "Иван", "link": "https://propusk.example/t/abc"},
        **options,
    )


def rfc2047(raw: bytes, header: str) -> str:
    import email
    from email.header import decode_header, make_header

    return str(make_header(decode_header(email.message_from_bytes(raw)[header])))


def _mail(app, mail_id: int) -> OutgoingMail:
    with app.app_context():
        mail = db.session.get(OutgoingMail, mail_id)
        db.session.expunge(mail)
        return mail


def test_mail_is_sent_only_after_commit_and_kept_without_mail_url(app, world):
    with app.app_context(), tenant_scope(world.a.id):
        mail_id = _queue(world.a.id)
        assert db.session.get(OutgoingMail, mail_id).status == MailStatus.PENDING
        db.session.commit()
    mail = _mail(app, mail_id)
    assert (mail.status, mail.delivered_via, mail.attempts) == ("sent", "kept", 1)
    assert "Здравствуйте, Иван" in mail.body_text and "https://propusk.example/t/abc" in mail.body_html


def test_mail_queued_inside_a_savepoint_waits_for_the_outer_commit(app, world):
    """SQLAlchemy reports a savepoint's release or rollback as a commit or rollback: a mail queued in
    a request whose service call runs in a savepoint (a refusal undone) is sent after the request's
    own commit; before it, on SQLite the task waited for the request's write lock (a hung page), and
    a rolled-back savepoint dropped what the request had queued before it."""
    with app.app_context(), tenant_scope(world.a.id):
        before = _queue(world.a.id, n=1)
        with db.session.begin_nested():
            inside = _queue(world.a.id, n=2)
        with suppress(ValueError), db.session.begin_nested():
            _queue(world.a.id, n=3)
            raise ValueError("refused")
        db.session.commit()
    assert _mail(app, before).status == _mail(app, inside).status == MailStatus.SENT


def test_rolled_back_change_sends_nothing(app, world):
    with app.app_context(), tenant_scope(world.a.id):
        _queue(world.a.id)
        db.session.rollback()
        assert db.session.scalars(select(OutgoingMail)).all() == []


def test_a_savepoint_is_not_the_commit_the_mail_waits_for(app, world):
    """A service's refusal is undone by a savepoint (`refusal_undone`, a class list's row): releasing one
    commits nothing, so nothing is sent yet; rolling one back loses nothing queued before it."""
    with app.app_context(), tenant_scope(world.a.id):
        before = _queue(world.a.id, n=1)
        with db.session.begin_nested():
            inside = _queue(world.a.id, n=2)
        refused = db.session.begin_nested()
        _queue(world.a.id, n=3)
        refused.rollback()
        statuses = db.session.execute(select(OutgoingMail.id, OutgoingMail.status)).all()
        assert statuses == [(before, "pending"), (inside, "pending")]
        db.session.commit()
    assert [_mail(app, i).status for i in (before, inside)] == ["sent", "sent"]


def test_a_message_whose_worker_died_mid_send_is_sent_again_by_the_sweep(smtp_app, smtp_sink, world):
    mail_id = _lost_handover(smtp_app, world.a.id)
    with smtp_app.app_context():  # claimed by a worker that then died: the claim is all that is left
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id)
            .values(status="sending", attempts=1, claimed_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        assert due_for_sweep() == []  # it may still be talking to the mail server
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id)
            .values(claimed_at=utcnow() - timedelta(minutes=11))
        )
        db.session.commit()
        assert sweep_outbox.call_local() == 1
    [message] = smtp_sink.messages()
    mail = _mail(smtp_app, mail_id)
    assert (mail.status, mail.attempts) == ("sent", 2) and message["Message-ID"] == mail.message_id


def test_the_same_key_is_one_message(app, world):
    with app.app_context(), tenant_scope(world.a.id):
        first = _queue(world.a.id)
        db.session.commit()
        again = _queue(world.a.id)
        db.session.commit()
        assert first is not None and again is None
        assert len(db.session.scalars(select(OutgoingMail)).all()) == 1


def test_smtp_receives_cyrillic_headers_both_parts_and_the_attachment(smtp_app, smtp_sink, world):
    with smtp_app.app_context(), tenant_scope(world.a.id):
        _queue(
            world.a.id,
            attachments=[("Билет.pdf", "application/pdf", PDF)],
            sender_name="Пропуск — Ярославская область",
        )
        db.session.commit()
    [raw] = smtp_sink.raw()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in headers  # encoded words, not raw 8-bit in headers
    [message] = smtp_sink.messages()
    assert message["Subject"] == "Билет на «День открытых дверей» — Иванов Иван"
    assert message["To"].addresses[0].display_name == "Иванова Мария Петровна"
    assert message["To"].addresses[0].addr_spec == "maria@example.ru"
    # Long names are folded into several encoded words; RFC 2047 joins them without the fold's space.
    # (Python 3.11's own address parser wrongly keeps a space there, so the standard decoder reads it.)
    assert rfc2047(raw, "From") == "Пропуск — Ярославская область <noreply@propusk.local>"
    assert message["Message-ID"].endswith("@propusk>")
    assert "Здравствуйте, Иван" in message.get_body(("plain",)).get_content()
    assert 'href="https://propusk.example/t/abc"' in message.get_body(("html",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "Билет.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def _lost_handover(app, region_id: int, **extra) -> int:
    """A committed message whose hand-over to the queue was lost (a crash between commit and enqueue)."""
    with app.app_context(), tenant_scope(region_id):
        mail_id = _queue(region_id, **extra)
        db.session.info.pop(AFTER_COMMIT)  # the process dies as the commit returns
        db.session.commit()
    return mail_id


def test_the_sweep_sends_what_the_queue_never_got(smtp_app, smtp_sink, world):
    mail_id = _lost_handover(smtp_app, world.a.id)
    with smtp_app.app_context():
        assert due_for_sweep() == []  # too young: its own task may still be on the way
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id)
            .values(created_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
        assert due_for_sweep() == [mail_id]
        db.session.commit()
        assert sweep_outbox.call_local() == 1
    assert len(smtp_sink.messages()) == 1
    assert _mail(smtp_app, mail_id).status == "sent"


def test_racing_and_repeated_sends_deliver_once(smtp_app, smtp_sink, world):
    mail_id = _lost_handover(smtp_app, world.a.id)
    results: list[str] = []

    def send():
        with smtp_app.app_context():
            results.append(deliver(mail_id))
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with smtp_app.app_context():
        results.append(deliver(mail_id))  # a retry after it went out
    assert results.count("sent") == 1
    assert len(smtp_sink.messages()) == 1
    assert _mail(smtp_app, mail_id).attempts == 1


def test_a_refused_address_is_marked_and_never_tried_again(smtp_app, smtp_sink, world):
    with smtp_app.app_context(), tenant_scope(world.a.id):
        first = _queue(world.a.id, to="bounce-me@example.ru")
        db.session.commit()
    mail = _mail(smtp_app, first)
    assert (mail.status, mail.error) == ("bounced", "550 recipient refused")
    with smtp_app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalars(select(MailSuppression.reason)).all() == ["bounced"]
        second = _queue(world.a.id, to="Bounce-Me@example.ru", n=2)
        db.session.commit()
        assert db.session.get(OutgoingMail, second).attempts == 0
    assert _mail(smtp_app, second).status == "bounced"
    assert smtp_sink.messages() == []


def test_an_address_that_is_not_one_is_marked_invalid_not_sent(app, world):
    with app.app_context(), tenant_scope(world.a.id):
        mail_id = _queue(world.a.id, to="no address here")
        db.session.commit()
    assert _mail(app, mail_id).status == "bounced"


def test_a_temporary_refusal_is_retried_with_back_off_then_given_up(smtp_app, smtp_sink, world):
    smtp_app.config["MAIL_MAX_ATTEMPTS"] = 3
    try:
        with smtp_app.app_context(), tenant_scope(world.a.id):
            mail_id = _queue(world.a.id, to="tempfail@example.ru")
            db.session.commit()
        delays = []
        for expected in ("retry", "failed"):
            mail = _mail(smtp_app, mail_id)
            assert mail.status == "pending" and mail.error == "451 SMTPRecipientsRefused"
            delays.append((mail.next_attempt_at - utcnow()).total_seconds())
            with smtp_app.app_context():
                assert deliver(mail_id) == "not claimed"  # not due yet: nothing happens
                db.session.execute(
                    update(OutgoingMail).where(OutgoingMail.id == mail_id).values(next_attempt_at=utcnow())
                )
                db.session.commit()
                assert deliver(mail_id) == expected
        assert 25 < delays[0] <= 30 and 110 < delays[1] <= 120  # 30 s, then 2 min
        assert _mail(smtp_app, mail_id).status == "failed"
    finally:
        smtp_app.config["MAIL_MAX_ATTEMPTS"] = 6
    assert smtp_sink.messages() == []


def test_a_regions_mail_is_spaced_at_its_rate(app, world):
    app.config["MAIL_RATE_PER_MINUTE"] = 60
    try:
        with app.app_context(), tenant_scope(world.a.id):
            ids = [_queue(world.a.id, n=i) for i in range(3)]
            other = _queue(world.b.id, n=9, tenant_id=world.b.id)
            db.session.commit()
        statuses = [_mail(app, i) for i in ids]
        assert statuses[0].status == "sent"
        assert [m.status for m in statuses[1:]] == ["pending", "pending"]
        waits = [(m.next_attempt_at - utcnow()).total_seconds() for m in statuses[1:]]
        assert 0 < waits[0] <= 1.05 and 1 < waits[1] <= 2.05  # one a second
        assert _mail(app, other).status == "sent"  # another region has its own pace
    finally:
        app.config["MAIL_RATE_PER_MINUTE"] = 0


def test_platform_admin_reads_kept_mail_and_others_cannot(app, world, client):
    with app.app_context(), tenant_scope(world.a.id):
        mail_id = _queue(world.a.id, attachments=[("Билет.pdf", "application/pdf", PDF)])
        db.session.commit()
    coordinator, _ = world.user(world.a)
    login(client, coordinator)
    assert client.get("/admin/mail/").status_code == 404
    client.post("/logout")
    with app.app_context():
        from server.accounts.services import create_user

        create_user("root@example.ru", password="correct-horse-battery", platform_admin=True)
        db.session.commit()
    login(client, "root@example.ru")
    page = client.get("/admin/mail/").get_data(as_text=True)
    assert "Отправленные письма" in page and "Билет на «День открытых дверей»" in page
    assert "<code>MAIL_URL</code> не задан: письма не уходят наружу" in page
    one = client.get(f"/admin/mail/{mail_id}").get_data(as_text=True)
    assert "Здравствуйте, Иван" in one and "maria@example.ru" in one and "Билет.pdf" in one
    html = client.get(f"/admin/mail/{mail_id}/html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    [attachment_link] = [part for part in one.split('"') if "/attachments/" in part]
    assert client.get(attachment_link).data == PDF


@pytest.mark.parametrize("url", ["http://x", "ftp://y"])
def test_mail_url_must_be_smtp(url):
    from server.mail.transport import SmtpTarget

    with pytest.raises(ValueError):
        SmtpTarget.parse(url)


def test_mail_url_is_read_with_its_options():
    from server.mail.transport import SmtpTarget

    target = SmtpTarget.parse("smtp://robot%40region.ru:p%40ss@smtp.region.ru:587?starttls=1")
    assert (target.host, target.port, target.username, target.password) == (
        "smtp.region.ru",
        587,
        "robot@region.ru",
        "p@ss",
    )
    assert target.starttls and not target.ssl
