"""Bulk onboarding: municipalities and schools from CSV/XLSX, previewed, idempotent, contacts invited."""

from __future__ import annotations

import io
import json
import re

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from server.accounts.models import Membership, Role
from server.catalog.models import Municipality, School
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.accounts.helpers import letters
from tests.conftest import login

URL = "/yaroslavl/onboarding/schools"
CSV = (
    "Муниципалитет;Школа;Краткое название;ИНН;E-mail ответственного\n"
    "г. Рыбинск;МОУ СОШ № 1 г. Рыбинска;СОШ № 1;7610012345;one@example.ru\n"
    "г. Рыбинск;МОУ СОШ № 2 г. Рыбинска;;;two@example.ru\n"
    "Тутаевский район;МОУ Лицей № 1;;;\n"
)


def _upload(client, data: bytes, name: str = "schools.csv"):
    return client.post(URL, data={"step": "preview", "file": (io.BytesIO(data), name)})


def _confirm(client, preview) -> object:
    rows = re.search(r'name="rows" value="([^"]*)"', preview.get_data(as_text=True)).group(1)
    import html

    return client.post(URL, data={"step": "confirm", "rows": html.unescape(rows)})


def _counts(app, region) -> tuple[int, int, int]:
    with app.app_context(), tenant_scope(region.id):
        return (
            db.session.scalar(select(func.count()).select_from(Municipality)),
            db.session.scalar(select(func.count()).select_from(School)),
            db.session.scalar(
                select(func.count()).select_from(Membership).where(Membership.role == Role.SCHOOL)
            ),
        )


def _coordinator(client, world) -> None:
    email, _ = world.user(world.a)
    login(client, email)


def test_preview_then_import_creates_municipalities_schools_and_invites_contacts(app, client, world):
    _coordinator(client, world)
    preview = _upload(client, ("\ufeff" + CSV).encode())
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "новый муниципалитет" in text and "приглашение" in text
    assert _counts(app, world.a) == (0, 0, 0)  # the preview writes nothing
    done = _confirm(client, preview)
    page = done.get_data(as_text=True)
    assert re.search(r'class="created">3<', page) and re.search(r'class="invited">2<', page)
    assert _counts(app, world.a) == (2, 3, 2)
    assert len(letters(app, "one@example.ru")) == 1
    with app.app_context(), tenant_scope(world.a.id):
        school = db.session.scalar(select(School).where(School.inn == "7610012345"))
        assert (school.short_name, school.municipality.name) == ("СОШ № 1", "г. Рыбинск")
    assert _counts(app, world.b) == (0, 0, 0)


def test_reimport_updates_and_creates_no_duplicates_or_second_invitations(app, client, world):
    _coordinator(client, world)
    _confirm(client, _upload(client, CSV.encode()))
    again = _upload(client, CSV.encode())
    assert "без изменений" in again.get_data(as_text=True)
    assert re.search(r'class="unchanged">3<', _confirm(client, again).get_data(as_text=True))
    renamed = CSV.replace("МОУ СОШ № 1 г. Рыбинска;СОШ № 1", "МОУ «Средняя школа № 1»;Школа № 1")
    preview = _upload(client, renamed.encode())
    assert "обновление" in preview.get_data(as_text=True)
    result = _confirm(client, preview).get_data(as_text=True)
    assert re.search(r'class="updated">1<', result) and re.search(r'class="invited">0<', result)
    assert _counts(app, world.a) == (2, 3, 2)
    assert len(letters(app, "one@example.ru")) == 1
    with app.app_context(), tenant_scope(world.a.id):
        assert (
            db.session.scalar(select(School.name).where(School.inn == "7610012345"))
            == "МОУ «Средняя школа № 1»"
        )


def test_each_rows_problem_is_shown_and_only_good_rows_are_imported(app, client, world):
    _coordinator(client, world)
    bad = (
        "Муниципалитет;Школа;ИНН;E-mail\n"
        ";Без муниципалитета;;\n"
        "г. Рыбинск;Школа с плохим ИНН;1234567890;\n"
        "г. Рыбинск;Школа с плохой почтой;;not-mail\n"
        "г. Рыбинск;Хорошая школа;;\n"
        "г. Рыбинск;Хорошая школа;;\n"
    )
    preview = _upload(client, bad.encode())
    text = preview.get_data(as_text=True)
    for problem in (
        "не указан муниципалитет",
        "ИНН «1234567890» неверный",
        "«not-mail» некорректен",
        "школа повторяется (строка 5)",
    ):
        assert problem in text
    assert re.search(r'class="valid-count">1<', text)
    _confirm(client, preview)
    assert _counts(app, world.a) == (1, 1, 0)


def test_a_file_without_the_columns_is_refused_with_a_hint(client, world):
    _coordinator(client, world)
    response = _upload(client, "Фамилия;Имя\nИванов;Иван\n".encode())
    assert response.status_code == 422 and "Скачайте шаблон" in response.get_data(as_text=True)


def test_xlsx_template_downloads_and_imports_as_is(app, client, world):
    _coordinator(client, world)
    response = client.get("/yaroslavl/onboarding/schools-template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]][:4] == ["Муниципалитет", "Школа", "Краткое название", "ИНН"]
    preview = _upload(client, response.data, "template.xlsx")
    assert re.search(r'class="valid-count">2<', preview.get_data(as_text=True))
    csv_template = client.get("/yaroslavl/onboarding/schools-template.csv")
    assert csv_template.data.startswith(b"\xef\xbb\xbf") and "Муниципалитет" in csv_template.data.decode(
        "utf-8-sig"
    )


def test_xlsx_with_numeric_inn_cells_is_read(app, client, world):
    book = Workbook()
    sheet = book.active
    sheet.append(["Муниципалитет", "Школа", "ИНН"])
    sheet.append(["г. Рыбинск", "Школа № 9", 7610012345])
    out = io.BytesIO()
    book.save(out)
    _coordinator(client, world)
    _confirm(client, _upload(client, out.getvalue(), "list.xlsx"))
    with app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalar(select(School.inn)) == "7610012345"


def test_only_coordinators_import_and_tampered_rows_are_rechecked(app, client, world):
    municipality = world.municipality(world.a)
    email, _ = world.user(world.a, Role.MUNICIPAL, municipality_id=municipality)
    login(client, email)
    assert client.get(URL).status_code == 403
    _coordinator(client, world)
    forged = json.dumps([{"line": 2, "municipality": "", "name": "Школа"}], ensure_ascii=False)
    done = client.post(URL, data={"step": "confirm", "rows": forged})
    assert done.status_code == 200 and "не указан муниципалитет" in done.get_data(as_text=True)
    assert client.post(URL, data={"step": "confirm", "rows": "{not json"}).status_code == 422
