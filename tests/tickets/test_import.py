"""A school registers a class from a CSV/XLSX list: preview shows each row's problem, confirm registers."""

from __future__ import annotations

import io
import json
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from server.accounts.models import Role
from server.extensions import db
from server.tickets.models import ClassGroup, Consent, ConsentMethod, Ticket
from tests.conftest import login
from tests.tickets.helpers import region

CSV = (
    "Фамилия;Имя;Отчество;Класс;Любимый предмет;Родитель\n"
    "Алёшина;Дарья;Олеговна;8А;химия;Алёшина Елена Сергеевна\n"
    "Бойко;Максим;;8 а;;Бойко Павел Игоревич\n"
    "алешина;дарья;олеговна;8А;;Алёшина Елена Сергеевна\n"
    "Власов;Илья;Романович;6Б;;Власова Нина Петровна\n"
    "Гусев;Lev2;;8А;;Гусева Анна Львовна\n"
    "Деева;Ольга;Ивановна;восьмой;;Деев Иван Ильич\n"
)


def _preview(client, event, data: bytes, filename: str, school=None):
    form = {
        "step": "preview",
        "consent_paper": "1",
        "consent_date": "2026-09-01",
        "escort_name": "Петрова Анна Сергеевна",
        "file": (io.BytesIO(data), filename),
    }
    if school:
        form["school_id"] = str(school)
    return client.post(f"/yaroslavl/events/{event}/import", data=form, content_type="multipart/form-data")


def _confirm(client, event, rows: list[dict], **form):
    """Step two: register the rows the preview let through (as its hidden form posts them)."""
    data = {"step": "confirm", "consent_paper": "1", "consent_date": "2026-09-01", "rows": json.dumps(rows)}
    return client.post(f"/yaroslavl/events/{event}/import", data={**data, **form})


def _rows(*last_names: str) -> list[dict]:
    """Preview rows of class 8А, lines from 2 as in a file with a header."""
    return [
        {
            "line": n,
            "last_name": name,
            "first_name": "Анна",
            "middle_name": "",
            "class_label": "8А",
            "guardian": f"{name} Мария Ивановна",
        }
        for n, name in enumerate(last_names, 2)
    ]


def _school_client(app, world, event_grades=(8, 11)):
    school = world.school(world.a)
    event = world.event(world.a, capacity=30, grades=event_grades)
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    client = app.test_client()
    login(client, email)
    return client, school, event


def test_preview_shows_every_rows_problem_and_confirm_registers_the_valid_ones(app, world):
    client, school, event = _school_client(app, world)
    page = _preview(client, event, CSV.encode("cp1251"), "8а.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Windows-1251" in html
    assert "Неизвестные столбцы не загружаются: «Любимый предмет»" in html
    assert "Повтор: этот ученик уже есть в строке 2." in html
    assert "6 класс не подходит: событие для 8–11 классов." in html
    assert "только буквы" in html
    assert "Класс «восьмой» не распознан" in html
    assert re.search(r'class="valid-count">2<', html)

    rows = re.search(r'name="rows" value="([^"]*)"', html).group(1)
    rows = json.loads(rows.replace("&#34;", '"').replace("&quot;", '"'))
    assert [r["last_name"] for r in rows] == ["Алёшина", "Бойко"]
    done = _confirm(client, event, rows, escort_name="Петрова Анна Сергеевна")
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and re.search(r'class="done-count">2<', text)
    with region(app, world.a):
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2
        group = db.session.scalar(select(ClassGroup))
        assert (group.label, group.escort_name) == ("8А", "Петрова Анна Сергеевна")
        consents = list(db.session.scalars(select(Consent).order_by(Consent.id)))
        assert [c.guardian_name for c in consents] == ["Алёшина Елена Сергеевна", "Бойко Павел Игоревич"]
        consent = consents[0]
        assert consent.method == ConsentMethod.PAPER and consent.given_at.date().isoformat() == "2026-09-01"
    sheet = client.get(f"/yaroslavl/groups/{group.id}/sheet.pdf")
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    # The same list again: everybody is already registered.
    again = _preview(client, event, CSV.encode("utf-8-sig"), "8а.csv").get_data(as_text=True)
    assert "Уже записан(а) на это событие." in again and "Windows-1251" not in again


def test_xlsx_with_a_missing_column_is_refused_with_the_expected_headers(app, world):
    client, school, event = _school_client(app, world)
    book = Workbook()
    book.active.append(["Фамилия", "Имя", "Отчество"])
    book.active.append(["Бойко", "Максим", ""])
    data = io.BytesIO()
    book.save(data)
    page = _preview(client, event, data.getvalue(), "list.xlsx")
    assert page.status_code == 422
    assert "Не найден столбец «Класс»" in page.get_data(as_text=True)

    book = Workbook()
    book.active.append(["Фамилия", "Имя", "Отчество", "Класс", "Родитель"])
    book.active.append(["Бойко", "Максим", None, 9, "Бойко Павел Игоревич"])
    data = io.BytesIO()
    book.save(data)
    html = _preview(client, event, data.getvalue(), "list.xlsx").get_data(as_text=True)
    assert re.search(r'class="valid-count">1<', html)


def test_rows_refused_by_a_rule_at_confirm_are_reported_and_the_rest_registered(app, world):
    client, school, event = _school_client(app, world)
    with region(app, world.a):
        from server.catalog.models import Event

        db.session.scalar(select(Event).where(Event.id == event)).capacity = 1
        db.session.commit()
    done = _confirm(client, event, _rows("Первая", "Вторая", "Третья"))
    text = done.get_data(as_text=True)
    assert re.search(r'class="done-count">1<', text) and text.count("Свободных мест больше нет") == 2


def test_a_row_over_the_quota_is_refused_and_its_seat_given_back(app, world):
    """The seat is taken before the quota is checked: a refused row must leave every counter as it was."""
    north = world.municipality(world.a)
    school = world.school(world.a, north)
    event = world.event(world.a, capacity=5, quotas=[(north, 2)])
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    client = app.test_client()
    login(client, email)
    done = _confirm(client, event, _rows("Первая", "Вторая", "Третья"))
    text = done.get_data(as_text=True)
    assert re.search(r'class="done-count">2<', text) and "квоте вашего муниципалитета" in text
    with region(app, world.a):
        from server.catalog.models import Event, EventQuota

        registered = db.session.scalar(select(Event.registered).where(Event.id == event))
        used = db.session.scalar(select(EventQuota.used).where(EventQuota.event_id == event))
        tickets = db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.event_id == event))
    assert (registered, used, tickets) == (2, 2, 2)


def test_municipal_coordinator_imports_only_for_its_schools(app, world):
    mine = world.municipality(world.a)
    own_school, foreign_school = world.school(world.a, mine), world.school(world.a)
    event = world.event(world.a)
    email, _ = world.user(world.a, Role.MUNICIPAL, municipality_id=mine)
    client = app.test_client()
    login(client, email)
    data = "Фамилия,Имя,Отчество,Класс,Родитель\nБойко,Максим,,9,Бойко Ольга\n".encode()
    assert _preview(client, event, data, "l.csv", school=own_school).status_code == 200
    refused = _preview(client, event, data, "l.csv", school=foreign_school)
    assert refused.status_code == 422 and "Выберите школу" in refused.get_data(as_text=True)


def test_without_the_paper_consent_tick_nothing_is_read(app, world):
    client, school, event = _school_client(app, world)
    page = client.post(
        f"/yaroslavl/events/{event}/import",
        data={"step": "preview", "consent_date": "2026-09-01", "file": (io.BytesIO(CSV.encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422 and "согласия родителей собраны на бумаге" in page.get_data(as_text=True)


def test_a_paper_consent_without_the_guardians_name_is_not_registered(app, world):
    """A consent collected on paper records who signed it: a row without the guardian is refused,
    never stored under a placeholder."""
    client, school, event = _school_client(app, world)
    data = "Фамилия;Имя;Отчество;Класс;Родитель\nБойко;Максим;;9;\nДеева;Ольга;;9;Деев Иван\n".encode()
    html = _preview(client, event, data, "l.csv").get_data(as_text=True)
    assert "Укажите ФИО родителя (законного представителя), подписавшего согласие." in html
    assert re.search(r'class="valid-count">1<', html)
    rows = [{**_rows("Бойко")[0], "guardian": ""}, {**_rows("Деева")[0], "line": 3, "guardian": "Деев Иван"}]
    done = _confirm(client, event, rows).get_data(as_text=True)
    assert re.search(r'class="done-count">1<', done)
    with region(app, world.a):
        assert [c.guardian_name for c in db.session.scalars(select(Consent))] == ["Деев Иван"]
def _xlsx(*rows) -> bytes:
    book = Workbook()
    book.active.append(["Фамилия", "Имя", "Отчество", "Класс", "Родитель"])
    for row in rows:
        book.active.append([*row, f"{row[0]} Мария Ивановна"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _preview_rows(html: str) -> list[dict]:
    rows = re.search(r'name="rows" value="([^"]*)"', html).group(1)
    return json.loads(rows.replace("&#34;", '"').replace("&quot;", '"'))


def test_preview_refuses_what_the_confirm_step_will_and_changes_nothing(app, world):
    """Capacity, the municipality's quota and the season limit are judged in the preview, per row."""
    north = world.municipality(world.a)
    school = world.school(world.a, north)
    other = world.school(world.a, north)
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue, capacity=4, quotas=[(north, 3)], programme="trial",
                        grades=(6, 11))  # fmt: skip
    world.ticket(world.a, event, school_id=other, last_name="Чужой")  # one quota seat gone
    earlier = world.event(world.a, venue_id=venue, programme="trial", grades=(6, 11))
    world.ticket(world.a, earlier, school_id=school, last_name="Пробова", first_name="Анна", grade=9)
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    client = app.test_client()
    login(client, email)
    data = _xlsx(
        ("Пробова", "Анна", "Петрович", "9А"),  # her one in-person trial of the season is taken
        ("Первый", "Олег", "", "9А"),
        ("Второй", "Олег", "", "9А"),
        ("Третий", "Олег", "", "9А"),  # the municipality's quota (3) is full by now
    )
    html = _preview(client, event, data, "9а.xlsx").get_data(as_text=True)
    assert re.search(r'class="valid-count">2<', html)
    assert "квоте вашего муниципалитета" in html
    assert "не будет записан" in html and html.count("не будет записан:") == 2
    assert [r["last_name"] for r in _preview_rows(html)] == ["Первый", "Второй"]
    with region(app, world.a):
        from server.catalog.models import Event

        assert db.session.scalar(select(Event.registered).where(Event.id == event)) == 1
        assert db.session.scalar(select(func.count()).select_from(ClassGroup)) == 0
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2
    done = _confirm(client, event, _preview_rows(html)).get_data(as_text=True)
    assert re.search(r'class="done-count">2<', done) and "flash-success" in done


def test_confirm_applies_the_files_row_limit(app, world):
    client, school, event = _school_client(app, world)
    page = _confirm(client, event, _rows(*[f"Ученик{chr(1072 + i % 32)}" for i in range(301)]))
    assert page.status_code == 422
    assert "за раз можно загрузить до 300" in page.get_data(as_text=True)


def test_a_partial_or_empty_result_is_not_shown_as_success(app, world):
    client, school, event = _school_client(app, world)
    with region(app, world.a):
        from server.catalog.models import Event

        db.session.scalar(select(Event).where(Event.id == event)).capacity = 1
        db.session.commit()
    partial = _confirm(client, event, _rows("Первая", "Вторая")).get_data(as_text=True)
    assert "flash-success" not in partial
    assert "Записана только часть списка" in partial and "1</strong> из 2" in partial
    none = _confirm(client, event, _rows("Третья")).get_data(as_text=True)
    assert "flash-success" not in none and "Никто из списка не записан" in none


def test_a_numeric_class_cell_joins_the_existing_class_and_a_refused_class_leaves_no_empty_group(app, world):
    client, school, event = _school_client(app, world)
    group, _, _ = world.class_group(world.a, event, school_id=school, size=2, label="10", grade=10)
    html = _preview(client, event, _xlsx(("Числова", "Анна", "", 10.0)), "10.xlsx").get_data(as_text=True)
    assert re.search(r'class="valid-count">1<', html)
    _confirm(client, event, _preview_rows(html))
    with region(app, world.a):
        labels = db.session.scalars(select(ClassGroup.label)).all()
        in_group = db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.group_id == group))
    assert labels == ["10"] and in_group == 3

    with region(app, world.a):
        from server.catalog.models import Event

        db.session.scalar(select(Event).where(Event.id == event)).capacity = 3
        db.session.commit()
    refused = _confirm(client, event, _rows("Лишняя")).get_data(as_text=True)  # class 8А, no seat
    assert "Свободных мест больше нет" in refused
    with region(app, world.a):
        assert db.session.scalars(select(ClassGroup.label)).all() == ["10"]


def test_an_over_long_name_says_too_long_and_a_missing_one_asks_in_the_right_case(app, world):
    client, school, event = _school_client(app, world)
    data = f"Фамилия;Имя;Отчество;Класс\n{'Д' * 101};Анна;;9\n;Олег;;9\n".encode()
    html = _preview(client, event, data, "l.csv").get_data(as_text=True)
    assert "Поле «фамилия» слишком длинное: не больше 100 символов." in html
    assert "Укажите фамилию." in html
    assert "только буквы" not in html
