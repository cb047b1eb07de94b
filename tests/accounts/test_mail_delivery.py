"""Invitations and resets leave over SMTP: a real SMTP server process receives them, link included."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import LINK, accept
from tests.conftest import login
from tests.mail.conftest import smtp_app, smtp_sink  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_invitation_and_reset_arrive_over_smtp_and_their_links_work(smtp_app, smtp_sink, world):  # noqa: F811
    app = smtp_app
    school = world.school(world.a)
    coordinator, _ = world.user(world.a)
    client = app.test_client()
    login(client, coordinator)
    client.post(
        "/yaroslavl/people",
        data={"email": "smtp-teacher@example.ru", "role": "school", "school_id": str(school)},
    )
    (invitation,) = smtp_sink.wait_for(1)
    assert invitation["To"].addresses[0].addr_spec == "smtp-teacher@example.ru"
    assert "Приглашение" in invitation["Subject"]
    link = LINK.search(_body(invitation)).group(0)
    assert accept(app.test_client(), "/" + link.split("/", 3)[3], "winter-forest-owl-2031").status_code == 302

    app.test_client().post("/password/forgot", data={"email": "smtp-teacher@example.ru"})
    messages = smtp_sink.wait_for(2)
    reset = messages[-1]
    assert "Восстановление пароля" in reset["Subject"]
    assert "/password/reset/" in _body(reset) and "winter-forest-owl-2031" not in _body(reset)
