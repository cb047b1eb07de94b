"""Bulk onboarding: municipalities and schools from a CSV/XLSX file, each school's contact invited.

Upload → preview (every row's problems and what will happen) → confirm. Re-importing the same or a
corrected file updates what is there and creates no duplicates: a school is the same school when its
INN matches, or, without an INN, its name within its municipality. A contact who already has a role in
the region is not invited again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field

from sqlalchemy import select

from server.accounts.auth import Principal
from server.accounts.models import Membership, Role, User
from server.accounts.services import EMAIL, normal_email
from server.audit.services import record
from server.catalog.models import Municipality, School
from server.errors import DomainError, Invalid
from server.extensions import db
from server.people.services import Scope, invite
from server.text import normalise_name
from server.tickets.importing import MAX_BYTES, read_table

MAX_ROWS = 2000
COLUMNS = {
    "муниципалитет": "municipality",
    "муниципальное образование": "municipality",
    "район": "municipality",
    "школа": "name",
    "название": "name",
    "полное название": "name",
    "краткое название": "short_name",
    "сокращённое название": "short_name",
    "сокращенное название": "short_name",
    "инн": "inn",
    "e-mail": "email",
    "email": "email",
    "почта": "email",
    "электронная почта": "email",
    "e-mail ответственного": "email",
    "фио ответственного": "contact_name",
    "ответственный": "contact_name",
}
REQUIRED = ("municipality", "name")
TEMPLATE_HEADER = [
    "Муниципалитет",
    "Школа",
    "Краткое название",
    "ИНН",
    "E-mail ответственного",
    "ФИО ответственного",
]
TEMPLATE_EXAMPLE = [
    [
        "г. Рыбинск",
        "МОУ СОШ № 1 г. Рыбинска",
        "СОШ № 1",
        "7610012345",
        "school1@example.ru",
        "Иванова Мария Петровна",
    ],
    ["Тутаевский муниципальный район", "МОУ Лицей № 1 г. Тутаева", "", "", "", ""],
]


@dataclass
class SchoolRow:
    line: int
    municipality: str
    name: str
    short_name: str = ""
    inn: str = ""
    email: str = ""
    contact_name: str = ""
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("problems")
        data.pop("actions")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SchoolRow:
        known = {
            k: str(data[k])
            for k in cls.__dataclass_fields__
            if k in data and k not in ("problems", "actions")
        }
        known["line"] = int(data.get("line", 0))
        return cls(**known)


@dataclass
class Summary:
    municipalities_created: int = 0
    schools_created: int = 0
    schools_updated: int = 0
    schools_unchanged: int = 0
    invited: int = 0
    refused: list[tuple[SchoolRow, str]] = field(default_factory=list)


def valid_inn(inn: str) -> bool:
    """A legal entity's INN: 10 digits with its check digit (schools are legal entities)."""
    if len(inn) != 10 or not inn.isdigit():
        return False
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return sum(int(d) * w for d, w in zip(inn, weights, strict=False)) % 11 % 10 == int(inn[9])


def parse(filename: str, data: bytes) -> tuple[list[SchoolRow], list[str]]:
    if not data:
        raise Invalid("Файл пустой.", code="empty_file")
    if len(data) > MAX_BYTES:
        raise Invalid("Файл больше 2 МБ. Разделите его на части.", code="file_too_large")
    notes: list[str] = []
    cells = read_table(filename, data, notes)
    header = [normalise_name(c).rstrip("*:").strip() for c in cells[0]]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = COLUMNS.get(title)
        if key and key not in columns:
            columns[key] = index
    if any(key not in columns for key in REQUIRED):
        raise Invalid(
            "Первая строка файла должна содержать заголовки: Муниципалитет, Школа (и по желанию "
            "Краткое название, ИНН, E-mail ответственного). Скачайте шаблон.",
            code="missing_columns",
        )
    rows = []
    for offset, values in enumerate(cells[1:], start=2):
        if not any(values):
            continue

        def cell(key: str, row=values) -> str:
            index = columns.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        rows.append(
            SchoolRow(
                line=offset,
                municipality=cell("municipality"),
                name=cell("name"),
                short_name=cell("short_name"),
                inn=cell("inn").replace(" ", ""),
                email=normal_email(cell("email")),
                contact_name=cell("contact_name"),
            )
        )
    if not rows:
        raise Invalid("В файле только заголовок — школ нет.", code="empty_file")
    if len(rows) > MAX_ROWS:
        raise Invalid(
            f"В файле {len(rows)} строк; за раз можно загрузить до {MAX_ROWS}.", code="too_many_rows"
        )
    return rows, notes


def _key(municipality: str, name: str) -> tuple[str, str]:
    return normalise_name(municipality), normalise_name(name)


class _Region:
    """What is already in the region, loaded once for the whole file."""

    def __init__(self) -> None:
        self.municipalities = {normalise_name(m.name): m for m in db.session.scalars(select(Municipality))}
        schools = list(db.session.scalars(select(School)))
        names = {m.id: m.name for m in self.municipalities.values()}
        self.by_inn = {s.inn: s for s in schools if s.inn}
        self.by_name = {_key(names.get(s.municipality_id, ""), s.name): s for s in schools}
        self.members = set(
            db.session.scalars(select(User.email).join(Membership, Membership.user_id == User.id))
        )

    def school_for(self, row: SchoolRow) -> School | None:
        if row.inn and row.inn in self.by_inn:
            return self.by_inn[row.inn]
        return self.by_name.get(_key(row.municipality, row.name))


def check(rows: list[SchoolRow]) -> list[SchoolRow]:
    """Fill in each row's problems and what importing it will do (read-only)."""
    region = _Region()
    seen_inn: dict[str, int] = {}
    seen_name: dict[tuple[str, str], int] = {}
    for row in rows:
        row.problems, row.actions = [], []
        if not row.municipality:
            row.problems.append("не указан муниципалитет")
        if not row.name:
            row.problems.append("не указано название школы")
        if len(row.name) > 300 or len(row.municipality) > 200 or len(row.short_name) > 200:
            row.problems.append("слишком длинное название")
        if row.inn and not valid_inn(row.inn):
            row.problems.append(f"ИНН «{row.inn}» неверный (10 цифр с контрольной)")
        if row.email and not EMAIL.match(row.email):
            row.problems.append(f"адрес «{row.email}» некорректен")
        if row.inn:
            if row.inn in seen_inn:
                row.problems.append(f"ИНН повторяется (строка {seen_inn[row.inn]})")
            seen_inn.setdefault(row.inn, row.line)
        key = _key(row.municipality, row.name)
        if key in seen_name:
            row.problems.append(f"школа повторяется (строка {seen_name[key]})")
        seen_name.setdefault(key, row.line)
        if row.problems:
            continue
        existing = region.school_for(row)
        named = region.by_name.get(key)
        if existing is not None and named is not None and named.id != existing.id:
            row.problems.append("ИНН принадлежит другой школе, а школа с таким названием уже есть")
            continue
        if existing is not None and row.inn and existing.inn and existing.inn != row.inn:
            row.problems.append(f"у этой школы уже другой ИНН ({existing.inn})")
            continue
        if normalise_name(row.municipality) not in region.municipalities:
            row.actions.append("новый муниципалитет")
        if existing is None:
            row.actions.append("новая школа")
        elif _changes(existing, row, region):
            row.actions.append("обновление")
        else:
            row.actions.append("без изменений")
        if row.email:
            row.actions.append("уже есть в регионе" if row.email in region.members else "приглашение")
    return rows


def _changes(school: School, row: SchoolRow, region: _Region) -> bool:
    municipality = region.municipalities.get(normalise_name(row.municipality))
    return (
        school.name != row.name
        or (row.short_name and school.short_name != row.short_name)
        or (row.inn and school.inn != row.inn)
        or municipality is None
        or municipality.id != school.municipality_id
    )


def apply(principal: Principal, rows: list[SchoolRow]) -> Summary:
    """Import the rows that still check out; idempotent (a second run changes nothing)."""
    summary = Summary()
    region = _Region()
    for row in check(rows):
        if not row.ok:
            summary.refused.append((row, "; ".join(row.problems)))
            continue
        municipality = region.municipalities.get(normalise_name(row.municipality))
        if municipality is None:
            municipality = Municipality(name=row.municipality)
            db.session.add(municipality)
            db.session.flush()
            region.municipalities[normalise_name(row.municipality)] = municipality
            summary.municipalities_created += 1
        school = region.school_for(row)
        if school is None:
            school = School(
                name=row.name,
                municipality_id=municipality.id,
                short_name=row.short_name or None,
                inn=row.inn or None,
            )
            db.session.add(school)
            summary.schools_created += 1
        elif _changes(school, row, region):
            school.name = row.name
            school.municipality_id = municipality.id
            school.short_name = row.short_name or school.short_name
            school.inn = row.inn or school.inn
            summary.schools_updated += 1
        else:
            summary.schools_unchanged += 1
        db.session.flush()
        region.by_name[_key(row.municipality, row.name)] = school
        if school.inn:
            region.by_inn[school.inn] = school
        if row.email and row.email not in region.members:
            try:
                invite(
                    principal,
                    row.email,
                    full_name=row.contact_name,
                    role=Role.SCHOOL,
                    scope=Scope(school_id=school.id),
                )
            except DomainError as error:  # refused before anything was written for it
                summary.refused.append((row, f"школа загружена, приглашение не отправлено: {error.message}"))
            else:
                region.members.add(row.email)
                summary.invited += 1
    record(
        "schools.import",
        "school",
        None,
        user_id=principal.user_id,
        created=summary.schools_created,
        updated=summary.schools_updated,
        municipalities=summary.municipalities_created,
        invited=summary.invited,
    )
    return summary


def template_csv() -> bytes:
    """UTF-8 with BOM and `;`: what Russian Excel opens without asking."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(TEMPLATE_EXAMPLE)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Школы"
    sheet.append(TEMPLATE_HEADER)
    for row in TEMPLATE_EXAMPLE:
        sheet.append(row)
    for column, width in zip("ABCDEF", (32, 40, 20, 14, 28, 30), strict=True):
        sheet.column_dimensions[column].width = width
    for cell in sheet["D"]:
        cell.number_format = "@"  # an INN is text: no 7.61E+09, no lost leading zeros
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
