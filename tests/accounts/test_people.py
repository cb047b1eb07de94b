"""People in a region: invitations by mail, one-time 48 h links, roles and scopes, deactivation, audit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server.accounts.models import AccountLink, Membership, Role
from server.audit.models import AuditEntry
from server.database import utcnow
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.accounts.helpers import accept, last_link, letters
from tests.conftest import PASSWORD, bearer, login

NEW = "long-unusual-phrase-42"


def _invite(client, email: str, role: str = "school", **scope):
    data = {"email": email, "full_name": "", "role": role, **{k: str(v) for k, v in scope.items()}}
    return client.post("/yaroslavl/people", data=data)


def _coordinator(client, world) -> str:
    email, _ = world.user(world.a)
    login(client, email)
    return email


def _membership_id(app, region, email: str) -> int:
    with app.app_context(), tenant_scope(region.id):
        from server.accounts.models import User

        return db.session.scalar(
            select(Membership.id).join(User, User.id == Membership.user_id).where(User.email == email)
        )


def _audit(app, region) -> list[str]:
    with app.app_context(), tenant_scope(region.id):
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [e.action for e in entries if e.action != "user.role_granted"]  # the grant under an invite


def test_invite_set_password_and_first_login(app, client, world):
    school = world.school(world.a, name="Школа № 5")
    _coordinator(client, world)
    response = _invite(client, "Teacher@Example.ru", school_id=school)
    assert response.status_code == 302
    listing = client.get("/yaroslavl/people").get_data(as_text=True)
    assert "teacher@example.ru" in listing and "приглашён" in listing and "Школа № 5" in listing

    (letter,) = letters(app, "teacher@example.ru")
    assert letter.kind == "account_invitation" and "Ярославская область" in letter.body_text
    assert "48 ч" in letter.body_text
    path = last_link(app, "teacher@example.ru")
    newcomer = app.test_client()
    form = newcomer.get(path)
    assert form.status_code == 200 and "teacher@example.ru" in form.get_data(as_text=True)
    done = accept(newcomer, path, NEW, "Петрова Анна Сергеевна")
    assert done.status_code == 302
    assert newcomer.get("/yaroslavl/reports/participants").status_code in (200, 302)
    assert login(app.test_client(), "teacher@example.ru", NEW).status_code == 302
    listing = client.get("/yaroslavl/people").get_data(as_text=True)
    assert "Петрова Анна Сергеевна" in listing and "активен" in listing
    assert _audit(app, world.a) == ["user.invite", "user.accept_invitation"]


def test_an_invitation_link_works_once(app, client, world):
    school = world.school(world.a)
    _coordinator(client, world)
    _invite(client, "once@example.ru", school_id=school)
    path = last_link(app, "once@example.ru")
    assert accept(app.test_client(), path).status_code == 302
    again = app.test_client()
    assert again.get(path).status_code == 410
    second = accept(again, path, "yet-another-phrase-99")
    assert second.status_code == 410 and "Ссылка недействительна" in second.get_data(as_text=True)
    assert login(app.test_client(), "once@example.ru", "yet-another-phrase-99").status_code == 200


def test_an_invitation_expires_after_48_hours_and_resend_replaces_it(app, client, world):
    school = world.school(world.a)
    _coordinator(client, world)
    _invite(client, "late@example.ru", school_id=school)
    with app.app_context():
        link = db.session.scalar(select(AccountLink))
        assert timedelta(hours=47) < link.expires_at - link.created_at <= timedelta(hours=48)
    old = last_link(app, "late@example.ru")
    with app.app_context():
        db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert app.test_client().get(old).status_code == 410

    membership = _membership_id(app, world.a, "late@example.ru")
    assert client.post(f"/yaroslavl/people/{membership}/resend").status_code == 302
    new = last_link(app, "late@example.ru")
    assert new != old and len(letters(app, "late@example.ru")) == 2
    assert accept(app.test_client(), new).status_code == 302


def test_a_weak_password_does_not_spend_the_invitation(app, client, world):
    school = world.school(world.a)
    _coordinator(client, world)
    _invite(client, "weak@example.ru", school_id=school)
    path = last_link(app, "weak@example.ru")
    newcomer = app.test_client()
    refused = accept(newcomer, path, "qwertyuiop")
    assert refused.status_code == 200 and "слишком распространён" in refused.get_data(as_text=True)
    short = accept(newcomer, path, "short")
    assert "не короче 10" in short.get_data(as_text=True)
    assert accept(newcomer, path, NEW).status_code == 302


def test_municipal_coordinator_invites_school_staff_of_its_own_municipality_only(app, client, world):
    own = world.municipality(world.a, "г. Рыбинск")
    other = world.municipality(world.a, "г. Ярославль")
    own_school = world.school(world.a, own)
    other_school = world.school(world.a, other)
    venue = world.venue(world.a)
    email, _ = world.user(world.a, Role.MUNICIPAL, municipality_id=own)
    login(client, email)
    page = client.get("/yaroslavl/people").get_data(as_text=True)
    assert f'value="{own_school}"' in page and f'value="{other_school}"' not in page
    assert _invite(client, "ok@example.ru", school_id=own_school).status_code == 302
    foreign = _invite(client, "no1@example.ru", school_id=other_school)
    assert foreign.status_code == 422 and "своего муниципалитета" in foreign.get_data(as_text=True)
    assert _invite(client, "no2@example.ru", role="venue", venue_id=venue).status_code == 422
    assert _invite(client, "no3@example.ru", role="coordinator").status_code == 422
    assert letters(app, "no1@example.ru") == [] and letters(app, "no3@example.ru") == []
    # …and sees and manages only those people
    coordinator_membership = _membership_id(app, world.a, email)
    assert client.get(f"/yaroslavl/people/{coordinator_membership}").status_code == 404


def test_school_staff_and_venue_staff_cannot_manage_people(client, world):
    school = world.school(world.a)
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    login(client, email)
    assert client.get("/yaroslavl/people").status_code == 403


def test_a_role_needs_its_scope_from_this_region(client, world):
    foreign_school = world.school(world.b)
    _coordinator(client, world)
    missing = _invite(client, "x@example.ru", role="school")
    assert missing.status_code == 422 and "выберите школу" in missing.get_data(as_text=True)
    assert _invite(client, "y@example.ru", school_id=foreign_school).status_code == 422


def test_role_and_scope_change_applies_at_the_next_request(app, client, world):
    own = world.municipality(world.a)
    school = world.school(world.a, own)
    staff_email, token = world.user(world.a, Role.SCHOOL, school_id=school)
    _coordinator(client, world)
    assert client.get("/api/v1/yaroslavl/schools", headers=bearer(token)).status_code == 403
    membership = _membership_id(app, world.a, staff_email)
    changed = client.post(
        f"/yaroslavl/people/{membership}", data={"role": "municipal", "municipality_id": str(own)}
    )
    assert changed.status_code == 302
    assert client.get("/api/v1/yaroslavl/schools", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 403
    with app.app_context(), tenant_scope(world.a.id):
        row = db.session.get(Membership, membership)
        assert (row.role, row.municipality_id, row.school_id) == (Role.MUNICIPAL, own, None)
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.change_role")).one()
        assert entry.details["before"]["role"] == "school" and entry.details["after"]["role"] == "municipal"


def test_deactivation_stops_session_remember_cookie_and_token_at_the_next_request(app, client, world):
    from server.accounts.remember import COOKIE

    school = world.school(world.a)
    event = world.event(world.a)
    staff_email, token = world.user(world.a, Role.SCHOOL, school_id=school)
    staff = app.test_client()
    staff.post("/login", data={"email": staff_email, "password": PASSWORD, "remember": "y"})
    remembered = staff.get_cookie(COOKIE).value
    assert staff.get("/yaroslavl/reports/participants").status_code == 200
    assert client.get(f"/api/v1/yaroslavl/events/{event}", headers=bearer(token)).status_code == 200

    _coordinator(client, world)
    membership = _membership_id(app, world.a, staff_email)
    confirm = client.get(f"/yaroslavl/people/{membership}/deactivate")
    assert confirm.status_code == 200 and "Отключить доступ?" in confirm.get_data(as_text=True)
    assert client.post(f"/yaroslavl/people/{membership}/deactivate").status_code == 302

    assert staff.get("/yaroslavl/reports/participants").status_code == 302
    other = app.test_client()
    other.set_cookie(COOKIE, remembered)
    assert other.get("/yaroslavl/reports/participants").status_code == 302
    assert client.get(f"/api/v1/yaroslavl/events/{event}", headers=bearer(token)).status_code == 401
    assert login(app.test_client(), staff_email).status_code == 200
    assert "отключён" in client.get("/yaroslavl/people").get_data(as_text=True)
    assert "user.deactivate" in _audit(app, world.a)


def test_deactivation_in_one_region_leaves_the_persons_other_region(app, client, world):
    from server.accounts.services import find_user, grant
    from tenants.models import Tenant

    school = world.school(world.a)
    email, token = world.user(world.b)  # a coordinator in region b …
    with app.app_context():
        grant(find_user(email), db.session.get(Tenant, world.a.id), Role.SCHOOL, school_id=school)
        db.session.commit()  # … and school staff in region a
    _coordinator(client, world)
    client.post(f"/yaroslavl/people/{_membership_id(app, world.a, email)}/deactivate")
    assert client.get("/api/v1/yaroslavl/events", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/irkutsk/venues", headers=bearer(token)).status_code == 200


def test_a_coordinator_cannot_see_or_touch_another_regions_people(app, client, world):
    email_b, _ = world.user(world.b)
    _coordinator(client, world)
    membership_b = _membership_id(app, world.b, email_b)
    assert client.get(f"/yaroslavl/people/{membership_b}").status_code == 404
    assert client.post(f"/yaroslavl/people/{membership_b}/deactivate").status_code == 404
    assert email_b not in client.get("/yaroslavl/people").get_data(as_text=True)
    assert client.get("/irkutsk/people").status_code == 404


def test_nobody_deactivates_themselves(app, client, world):
    email = _coordinator(client, world)
    own = _membership_id(app, world.a, email)
    assert client.post(f"/yaroslavl/people/{own}/deactivate").status_code == 404


def test_inviting_someone_who_already_has_a_password_sends_a_notice_not_a_link(app, client, world):
    email_b, _ = world.user(world.b)
    _coordinator(client, world)
    assert _invite(client, email_b, role="coordinator").status_code == 302
    (letter,) = letters(app, email_b)
    assert "/invite/" not in letter.body_text and "прежним паролем" in letter.body_text
    assert "Региональный координатор" in letter.body_html and "/invite/" not in letter.body_html
    assert 'href="http://localhost/login"' in letter.body_html
    assert _invite(client, email_b, role="coordinator").status_code == 422  # already here
