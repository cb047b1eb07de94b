"""The parents' meeting form: quotas, schools' connection points, a municipality's submission, the
region's statuses, the form as a file."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from server.meetings.models import ConnectionPoint, ParentMeeting
from tenants.scoping import tenant_scope
from tests.conftest import login


def _setup(world, client):
    a = world.a
    yaroslavl = world.municipality(a, "г. Ярославль")
    rybinsk = world.municipality(a, "г. Рыбинск")
    school_33 = world.school(a, yaroslavl, "Средняя школа № 33")
    school_7 = world.school(a, yaroslavl, "Гимназия № 7")
    lyceum_2 = world.school(a, rybinsk, "Лицей № 2")
    event = world.event(a, format="online", title="Родительское собрание ЕДОД",
                        starts_at=utcnow() + timedelta(days=3))  # fmt: skip
    coordinator = world.user(a)[0]
    login(client, coordinator)
    deadline = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/yaroslavl/parents-meetings/",
        data={"event_id": event, "deadline": deadline, f"quota-{yaroslavl}": "60", f"quota-{rybinsk}": "40"},
    )
    assert response.status_code == 302
    meeting_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client.post("/logout")
    return {
        "meeting": meeting_id, "yaroslavl": yaroslavl, "rybinsk": rybinsk, "school_33": school_33,
        "school_7": school_7, "lyceum_2": lyceum_2, "coordinator": coordinator,
        "municipal": world.user(a, Role.MUNICIPAL, municipality_id=yaroslavl)[0],
        "school": world.user(a, Role.SCHOOL, school_id=school_33)[0],
    }  # fmt: skip


def _status(html: str, municipality_id: int) -> list[str]:
    row = html.split(f'data-municipality="{municipality_id}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


def test_schools_register_points_the_municipality_submits_the_region_sees(client, world):
    s = _setup(world, client)
    url = f"/yaroslavl/parents-meetings/{s['meeting']}"
    login(client, s["school"])
    client.post(
        f"{url}/points", data={"place": "Актовый зал", "responsible": "Петрова А. С.", "parents": "25"}
    )
    client.post(f"{url}/points", data={"place": "Кабинет 12", "responsible": "Иванов И. И.", "parents": "10"})
    bad = client.post(f"{url}/points", data={"place": "Кабинет 14", "responsible": "", "parents": "5"},
                      follow_redirects=True)  # fmt: skip
    assert "Укажите ответственного." in bad.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "Актовый зал" in page and "Кабинет 14" not in page
    client.post("/logout")

    login(client, s["municipal"])
    client.post(f"{url}/points", data={"school_id": s["school_7"], "place": "Библиотека",
                                       "responsible": "Сидорова Е. В.", "parents": "12"})  # fmt: skip
    foreign = client.post(f"{url}/points", data={"school_id": s["lyceum_2"], "place": "Зал",
                                                 "responsible": "Х", "parents": "1"})  # fmt: skip
    assert foreign.status_code == 404  # not a school of this municipality
    page = client.get(url).get_data(as_text=True)
    assert _status(page, s["yaroslavl"])[:4] == ["г. Ярославль", "60", "3", "47 (78%)"]
    assert f'data-municipality="{s["rybinsk"]}"' not in page  # only its own line
    confirm = client.get(f"{url}/submit").get_data(as_text=True)
    assert "Отменить сдачу нельзя" in confirm
    client.post(f"{url}/submit")
    assert "сдана" in _status(client.get(url).get_data(as_text=True), s["yaroslavl"])[4]
    again = client.post(f"{url}/submit", follow_redirects=True).get_data(as_text=True)
    assert "Форма уже сдана." in again
    client.post("/logout")

    login(client, s["school"])
    point = {"place": "Спортзал", "responsible": "Петрова А. С.", "parents": "3"}
    late = client.post(f"{url}/points", data=point, follow_redirects=True).get_data(as_text=True)
    assert "уже сдал форму" in late and "Спортзал" not in late
    client.post("/logout")

    login(client, s["coordinator"])
    page = client.get(url).get_data(as_text=True)
    assert _status(page, s["yaroslavl"])[4].startswith("сдана")
    assert _status(page, s["rybinsk"])[1:5] == ["40", "0", "0 (0%)", "не сдана"]
    assert "сдали 1 из 2" in page
    book = load_workbook(io.BytesIO(client.get(f"{url}/form.xlsx").data))
    rows = [tuple(c.value for c in r) for r in book.active.iter_rows(min_row=2)]
    assert ("г. Ярославль", "Средняя школа № 33", "Актовый зал", "Петрова А. С.", None, 25) in rows
    assert rows[-1][0] == "Итого" and rows[-1][5] == 47


def test_a_late_submission_is_marked_late(client, world):
    s = _setup(world, client)
    with world.app.app_context(), tenant_scope(world.a.id):
        meeting = db.session.scalar(select(ParentMeeting).where(ParentMeeting.id == s["meeting"]))
        meeting.deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    login(client, s["municipal"])
    client.post(f"/yaroslavl/parents-meetings/{s['meeting']}/submit")
    client.post("/logout")
    login(client, s["coordinator"])
    page = client.get(f"/yaroslavl/parents-meetings/{s['meeting']}").get_data(as_text=True)
    assert _status(page, s["yaroslavl"])[4].startswith("сдана после срока")


def test_only_online_events_and_other_regions_see_nothing(client, world):
    s = _setup(world, client)
    in_person = world.event(world.a, title="Очное событие")
    login(client, s["coordinator"])
    form = {"event_id": in_person, "deadline": "2030-01-01T10:00"}
    page = client.post("/yaroslavl/parents-meetings/", data=form, follow_redirects=True).text
    assert "выберите онлайн-событие" in page
    stranger = world.user(world.b)[0]
    client.post("/logout")
    login(client, stranger)
    assert client.get(f"/yaroslavl/parents-meetings/{s['meeting']}").status_code == 404
    assert client.get(f"/irkutsk/parents-meetings/{s['meeting']}").status_code == 404
    with world.app.app_context(), tenant_scope(world.b.id):
        assert db.session.scalars(select(ConnectionPoint)).all() == []
