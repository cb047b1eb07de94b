"""Consent as its own document: every text version kept word for word and shown as it was when given;
who gave it, when, how, which version; the region's operator named; a printable form for schools."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

from sqlalchemy import select

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from server.tickets.consent import CONSENT_TEXTS, CONSENT_VERSION, text_of
from server.tickets.models import Consent, ConsentMethod, Ticket
from tests.conftest import login
from tests.tickets.helpers import region

# Every version a guardian may have agreed to, pinned: a text once shown is never edited, only added to.
SHOWN = {
    "2026-09": "6647e8d5aa9745568ce2b17785e82b3c6c2a812ac249544de6f08d0291a074da",
    "2026-12": "03bde16fbc97c33660be5eb554c3454d3f63c60d75df6698eb0bf532e6ae1d0d",
}


def test_every_consent_text_ever_shown_is_kept_word_for_word():
    assert CONSENT_VERSION in CONSENT_TEXTS
    for version, digest in SHOWN.items():
        assert hashlib.sha256(CONSENT_TEXTS[version].encode()).hexdigest() == digest, version


def _register(client, world) -> str:
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    school = world.school(world.a)
    form = {
        "last_name": "Согласнова",
        "first_name": "Вера",
        "grade": "9",
        "school_id": str(school),
        "guardian_name": "Согласнов Игорь Петрович",
        "guardian_phone": "+7 900 765-43-21",
        "consent": "y",
        "consent_version": CONSENT_VERSION,
    }
    page = client.get(f"/yaroslavl/e/{event}").get_data(as_text=True)
    assert "региональный оператор профориентационных мероприятий (Ярославская область)" in page
    done = client.post(f"/yaroslavl/e/{event}", data=form)
    assert done.status_code == 302, done.get_data(as_text=True)
    return done.headers["Location"].split("/t/")[1].split("?")[0]


def test_the_ticket_page_shows_who_gave_consent_when_how_and_the_text_as_given(app, client, world):
    token = _register(client, world)
    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    assert "Согласнов Игорь Петрович" in page and "отмечено родителем при записи на сайте" in page
    assert f"редакция {CONSENT_VERSION}" in page
    text = client.get(f"/yaroslavl/t/{token}/consent").get_data(as_text=True)
    assert "Срок действия: до окончания текущего учебного года" in text
    assert "Ярославская область" in text and "серверах, расположенных в Российской Федерации" in text

    # A consent given under the earlier wording, to a named operator, is shown in those words.
    with region(app, world.a):
        consent = db.session.scalar(select(Consent))
        consent.text_version, consent.operator_name = "2026-09", "ГАУ ДПО ЯО «Институт развития образования»"
        db.session.commit()
    old = client.get(f"/yaroslavl/t/{token}/consent").get_data(as_text=True)
    assert "может быть отозвано письменным заявлением" in old and "Срок действия:" not in old
    assert "2026-09" in old


def test_the_operator_named_at_the_time_stays_with_the_consent():
    assert "ООО «Новый оператор»" in text_of("2026-12", "ООО «Новый оператор»", "Ярославская область")
    assert "ООО «Новый оператор»" not in text_of("2026-09", "ООО «Новый оператор»", "Ярославская область")
    assert text_of("1999-01") == ""


def test_an_unknown_text_version_is_refused_through_the_api(client, world):
    from tests.conftest import bearer
    from tests.tickets.helpers import body

    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    _, token = world.user(world.a, Role.COORDINATOR)
    answer = client.post(
        f"/api/v1/yaroslavl/events/{event}/registrations",
        json=body(world.school(world.a), consent_version="1999-01"),
        headers=bearer(token),
    )
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "consent_outdated"
    ok = client.post(
        f"/api/v1/yaroslavl/events/{event}/registrations",
        json=body(world.school(world.a)),
        headers=bearer(token),
    )
    assert ok.status_code == 201
    with region(client.application, world.a):
        consent = db.session.scalar(select(Consent))
        assert (consent.method, consent.text_version) == (ConsentMethod.API, CONSENT_VERSION)
        assert db.session.scalar(select(Ticket.consent_id)) == consent.id


def test_schools_print_the_consent_form_for_paper(app, client, world, tmp_path):
    school = world.school(world.a)
    assert client.get("/yaroslavl/consent-form.pdf").status_code == 302  # staff only
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    login(client, email)
    response = client.get("/yaroslavl/consent-form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="Soglasie {CONSENT_VERSION}.pdf"' in response.headers["Content-Disposition"]
    path = tmp_path / "form.pdf"
    path.write_bytes(response.data)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "Согласие родителя (законного представителя)" in text
    assert f"Редакция {CONSENT_VERSION}" in text and "Ярославская область" in text
    assert "Оператор:" in text and "подпись" in text and "расшифровка подписи" in text
    assert "фамилия, имя, отчество ребёнка" in text
