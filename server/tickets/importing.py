"""A class from a list: read a CSV or XLSX, show every row's problem, register the valid rows at once.

Teachers export lists from Excel, so we read UTF-8 (with or without BOM) and Windows-1251 CSV, `;`, `,`
or tab separated, and XLSX. Guardians' consent is collected on paper by the school; the registration
records it as such, with the date the school gives and the name of the guardian who signed it (a
column of the list: a consent without its giver's name proves nothing).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server import signals
from server.accounts.auth import Principal
from server.catalog.models import Event, School
from server.errors import DomainError, Invalid
from server.extensions import db
from server.text import normalise_name
from server.tickets import codes, rules, services
from server.tickets.consent import PAPER_GUARDIAN_REQUIRED
from server.tickets.models import ClassGroup, ConsentMethod, Student, Ticket, TicketStatus

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 300
# An XLSX is a zip: 510 KB of it once held a million rows (129 s of CPU, 725 MB) and one cell of
# 300 MB. A class list unpacks to a few hundred KB; we refuse before unpacking past these.
MAX_UNPACKED_BYTES = 8 * 1024 * 1024
MAX_ZIP_ENTRIES = 100
MAX_COLUMNS = 30
MAX_CELL = 200  # characters: a name is at most 100; longer cells are cut and the row refused
MAX_BLANK_ROWS = 1000  # blank rows read past before the list is deemed over
REQUIRED = {"фамилия": "last_name", "имя": "first_name", "отчество": "middle_name", "класс": "class"}
OPTIONAL = {
    "родитель": "guardian",
    "законный представитель": "guardian",
    "фио родителя": "guardian",
    "телефон": "phone",
    "телефон родителя": "phone",
}
_CLASS = re.compile(r"^\s*(\d{1,2})\s*[-–\s]?\s*([А-Яа-яЁёA-Za-z]?)\s*(класс)?\s*$", re.IGNORECASE)


@dataclass
class Row:
    line: int
    last_name: str
    first_name: str
    middle_name: str = ""
    class_label: str = ""
    grade: int | None = None
    guardian: str = ""
    phone: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def too_long(self) -> bool:
        """A cell past MAX_CELL (cut when read, or sent back so by a confirm form)."""
        cells = (
            self.last_name,
            self.first_name,
            self.middle_name,
            self.class_label,
            self.guardian,
            self.phone,
        )
        return any(len(c) > MAX_CELL for c in cells)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("problems")
        return data

    @classmethod
    def from_dict(cls, data: object) -> Row:
        """A row as the preview's form sent it back; anything else is refused, not trusted."""
        if not isinstance(data, dict):
            raise Invalid(_BAD_ROWS, code="bad_rows")
        line = data.get("line")
        texts = {name: data.get(name, "") for name in _TEXT_FIELDS}
        if (
            type(line) is not int
            or not 0 < line <= 1_000_000
            or not all(isinstance(v, str) for v in texts.values())
        ):
            raise Invalid(_BAD_ROWS, code="bad_rows")
        return cls(line=line, **texts)


_TEXT_FIELDS = ("last_name", "first_name", "middle_name", "class_label", "guardian", "phone")
_BAD_ROWS = "Список учеников пришёл повреждённым. Загрузите файл ещё раз."


def confirmed_rows(raw: str | None) -> list[Row]:
    """The rows the preview's confirm form posts back (JSON), checked for shape and count."""
    try:
        data = json.loads(raw or "[]")
    except (ValueError, RecursionError):
        raise Invalid(_BAD_ROWS, code="bad_rows") from None
    if not isinstance(data, list):
        raise Invalid(_BAD_ROWS, code="bad_rows")
    if len(data) > MAX_ROWS:  # the preview never holds more: the page's rows were changed on the way
        raise Invalid(
            f"Список учеников пришёл повреждённым: в нём {len(data)} строк, а за раз можно загрузить "
            f"до {MAX_ROWS}. Загрузите файл ещё раз.",
            code="too_many_rows",
        )
    return [Row.from_dict(item) for item in data]


@dataclass
class Parsed:
    rows: list[Row]
    notes: list[str]  # about the whole file, shown above the table


@dataclass
class ImportResult:
    tickets: list[Ticket]
    refused: list[tuple[Row, str]]
    groups: list[ClassGroup]


# --- reading files --------------------------------------------------------------------------------


def _decode(data: bytes, notes: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            raise Invalid(
                "Не удалось определить кодировку файла. Сохраните его как «CSV UTF-8» или XLSX.",
                code="bad_encoding",
            ) from None
        notes.append(
            "Файл в кодировке Windows-1251 (так сохраняет старый Excel). Мы его прочитали — проверьте, "
            "что фамилии ниже выглядят правильно; в следующий раз лучше сохранять «CSV UTF-8»."
        )
    if re.search("[ÐÑ][\u0080-\u00bf]", text):
        raise Invalid(
            "Буквы в файле испорчены (вместо кириллицы «Ð», «Ñ»…): файл пересохранили в неверной "
            "кодировке. Откройте исходную таблицу и сохраните её как XLSX или «CSV UTF-8».",
            code="bad_encoding",
        )
    return text


def _csv_cells(data: bytes, notes: list[str]) -> list[list[str]]:
    text = _decode(data, notes)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        return _bounded(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:  # e.g. a field past the csv module's own limit
        raise Invalid("Не удалось прочитать файл CSV. Сохраните его как XLSX.", code="bad_file") from None


def _check_zip(data: bytes) -> None:
    """Refuse a zip that would unpack past our bounds, from its directory, before unpacking anything.

    `zipfile` stops each member at its declared size, so a member that lies gets no further.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError):
        raise Invalid("Не удалось прочитать файл Excel. Сохраните его как XLSX.", code="bad_file") from None
    if len(members) > MAX_ZIP_ENTRIES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise Invalid(
            "Файл Excel слишком большой для списка класса. Оставьте в нём один лист со списком.",
            code="file_too_large",
        )


def _xlsx_cells(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or non-XLSX file
        raise Invalid("Не удалось прочитать файл Excel. Сохраните его как XLSX.", code="bad_file") from None
    try:
        rows = book.active.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        return _bounded(
            ["" if v is None else str(int(v) if isinstance(v, float) and v.is_integer() else v) for v in row]
            for row in rows
        )
    except DomainError:
        raise
    except Exception:
        raise Invalid("Не удалось прочитать файл Excel. Сохраните его как XLSX.", code="bad_file") from None
    finally:
        book.close()


def _bounded(rows: Iterable[list[str]]) -> list[list[str]]:
    """The file's rows, read no further than a class list can reach: the header and MAX_ROWS filled
    rows (one more is refused without reading the rest), MAX_COLUMNS cells, cells cut past MAX_CELL."""
    kept: list[list[str]] = []
    filled = blank = 0
    for row in rows:
        cells = [(c or "")[: MAX_CELL + 1].strip() for c in row[:MAX_COLUMNS]]
        if not any(cells):
            blank += 1
            if blank > MAX_BLANK_ROWS:
                break
            if kept:  # inside the list: kept, so line numbers stay those of the file
                kept.append([])
            continue
        filled += 1
        if filled > MAX_ROWS + 1:  # + the header
            raise Invalid(
                f"В файле больше {MAX_ROWS} учеников; за раз можно загрузить до {MAX_ROWS}.",
                code="too_many_rows",
            )
        kept.append(cells)
    return kept


def read_table(filename: str, data: bytes, notes: list[str]) -> list[list[str]]:
    """The cells of a CSV (any of our encodings and separators) or XLSX file, from its first non-empty
    row; shared by every import (class lists, schools)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        cells = _xlsx_cells(data)
    elif name.endswith((".csv", ".txt")) or not name:
        cells = _csv_cells(data, notes)
    else:
        raise Invalid("Загрузите файл CSV или XLSX.", code="bad_file")
    cells = [[(c or "").strip() for c in row] for row in cells]
    while cells and not any(cells[0]):
        cells.pop(0)
    if not cells:
        raise Invalid("В файле нет строк.", code="empty_file")
    return cells


def parse_class(value: str) -> tuple[int, str] | None:
    """«8А», «8 а», «8-Б», «9», «10 класс» → (grade, label)."""
    found = _CLASS.match(value or "")
    if not found:
        return None
    grade = int(found.group(1))
    return grade, f"{grade}{found.group(2).upper()}"


def parse_upload(filename: str, data: bytes) -> Parsed:
    """Rows of a class list with what is wrong in each; raises `Invalid` when the file is unusable."""
    if not data:
        raise Invalid("Файл пустой.", code="empty_file")
    if len(data) > MAX_BYTES:
        raise Invalid("Файл больше 2 МБ — это точно список класса?", code="file_too_large")
    notes: list[str] = []
    cells = read_table(filename, data, notes)
    header = [normalise_name(c).rstrip("*:").strip() for c in cells[0]]
    columns: dict[str, int] = {}
    unknown = []
    for index, title in enumerate(header):
        key = REQUIRED.get(title) or OPTIONAL.get(title)
        if key and key not in columns:
            columns[key] = index
        elif title:
            unknown.append(cells[0][index])
    missing = [
        title.capitalize() for title, key in REQUIRED.items() if key not in columns and key != "middle_name"
    ]
    if missing:
        raise Invalid(
            "Не найден столбец " + ", ".join(f"«{m}»" for m in missing) + ". Первая строка файла должна "
            "содержать заголовки: Фамилия, Имя, Отчество, Класс, Родитель.",
            code="missing_columns",
        )
    if unknown:
        notes.append("Неизвестные столбцы не загружаются: " + ", ".join(f"«{u}»" for u in unknown) + ".")
    rows = []
    for offset, cells_row in enumerate(cells[1:], start=2):
        if not any(cells_row):
            continue

        def cell(key: str, row=cells_row) -> str:
            index = columns.get(key)
            return row[index] if index is not None and index < len(row) else ""

        rows.append(
            Row(
                line=offset,
                last_name=cell("last_name"),
                first_name=cell("first_name"),
                middle_name=cell("middle_name"),
                class_label=cell("class"),
                guardian=cell("guardian"),
                phone=cell("phone"),
            )
        )
    check_row_count(len(rows))
    if not rows:
        raise Invalid("В файле только заголовок — учеников нет.", code="empty_file")
    return Parsed(rows, notes)


# --- checking rows --------------------------------------------------------------------------------


def check_row_count(count: int) -> None:
    """One limit for the file and for the confirm step (whose rows come back from the page)."""
    if count > MAX_ROWS:
        raise Invalid(f"В списке {count} строк; за раз можно загрузить до {MAX_ROWS}.", code="too_many_rows")


def check_rows(event: Event, school_id: int, rows: list[Row]) -> list[Row]:
    """Fill in each row's problems (read-only): names, class, grade range, duplicates, already registered."""
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        row.problems = []
        if row.too_long:
            row.problems.append(f"Слишком длинное значение: в ячейке не больше {MAX_CELL} символов.")
            continue
        try:
            row.last_name = services.clean_name(row.last_name, "фамилия")
            row.first_name = services.clean_name(row.first_name, "имя")
            row.middle_name = services.clean_name(row.middle_name, "отчество", required=False)
        except DomainError as error:
            row.problems.append(error.message)
        parsed = parse_class(row.class_label)
        if parsed is None:
            row.problems.append(f"Класс «{row.class_label}» не распознан: нужно, например, «8А» или «9».")
            continue
        row.grade, row.class_label = parsed
        if not event.grade_min <= row.grade <= event.grade_max:
            row.problems.append(
                f"{row.grade} класс не подходит: событие для {event.grade_min}–{event.grade_max} классов."
            )
        row.guardian = " ".join((row.guardian or "").split())
        if not row.guardian:
            row.problems.append(PAPER_GUARDIAN_REQUIRED)
        elif len(row.guardian) > 200:
            row.problems.append("ФИО родителя длиннее 200 знаков.")
        if row.phone:
            try:
                row.phone = services.clean_phone(row.phone) or ""
            except DomainError as error:
                row.problems.append(error.message)
        if row.problems:
            continue
        key = (normalise_name(row.full_name), row.grade)
        if key in seen:
            row.problems.append(f"Повтор: этот ученик уже есть в строке {seen[key]}.")
            continue
        seen[key] = row.line
        if _already_registered(event.id, school_id, key):
            row.problems.append("Уже записан(а) на это событие.")
    return rows


def _already_registered(event_id: int, school_id: int, key: tuple[str, int]) -> bool:
    return (
        db.session.scalar(
            select(Ticket.id)
            .join(Student, Student.id == Ticket.student_id)
            .where(
                Ticket.event_id == event_id,
                Ticket.status == TicketStatus.ACTIVE,
                Student.school_id == school_id,
                Student.identity_name == key[0],
                Student.grade == key[1],
            )
        )
        is not None
    )


# --- registering ----------------------------------------------------------------------------------


def _group(event_id: int, school_id: int, label: str, escort_name: str, user_id: int | None) -> ClassGroup:
    """The school's class at this event: the one already registered under this label, else a new one."""
    group = db.session.scalar(
        select(ClassGroup).where(
            ClassGroup.event_id == event_id, ClassGroup.school_id == school_id, ClassGroup.label == label
        )
    )
    if group is None:
        group = ClassGroup(event_id=event_id, school_id=school_id, label=label, created_by_id=user_id)
        db.session.add(group)
    if escort_name:
        group.escort_name = escort_name[:200]
    db.session.flush()
    return group


def preview_class(
    event_id: int,
    school_id: int,
    rows: list[Row],
    *,
    consent_date: date,
    tz: ZoneInfo,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> list[Row]:
    """Run the confirm step itself in a savepoint and roll it back, so the preview refuses exactly what
    the confirm will (capacity, quotas, season limits, duplicates), each row with its reason."""
    savepoint = db.session.begin_nested()
    try:
        result = register_class(
            event_id, school_id, rows, consent_date=consent_date, escort_name="", tz=tz,
            principal=principal, now=now,
        )  # fmt: skip
    finally:
        savepoint.rollback()
        db.session.expire_all()  # the seat counters were set from the rolled-back statements
    for row, reason in result.refused:
        if row.ok:
            row.problems.append(reason)
    return rows


def register_class(
    event_id: int,
    school_id: int,
    rows: list[Row],
    *,
    consent_date: date,
    escort_name: str,
    tz: ZoneInfo,
    principal: Principal | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Register every valid row in this one transaction; rows a rule refuses are reported, not fatal."""
    from server.database import utcnow

    now = now or utcnow()
    check_row_count(len(rows))
    school = db.session.scalar(select(School).where(School.id == school_id))
    if school is None:
        raise Invalid("Выберите школу.", code="unknown_school")
    services.check_school_scope(principal, school)
    event = services.find_event(event_id)
    rules.check_open(event, now)
    if consent_date > now.astimezone(tz).date():
        raise Invalid("Дата сбора согласий не может быть в будущем.", code="invalid_consent_date")
    given_at = datetime.combine(consent_date, time(12), tzinfo=tz)
    key = codes.ensure_key(school.tenant_id)
    check_rows(event, school_id, rows)
    valid = [r for r in rows if r.ok]
    refused = [(r, "; ".join(r.problems)) for r in rows if not r.ok]
    # Lock students in one global order (normalised name), then the event: no lock cycles.
    inputs = {
        r.line: services.StudentInput(r.last_name, r.first_name, r.grade, school_id, r.middle_name)
        for r in valid
    }
    students = {}
    for row in sorted(valid, key=lambda r: (services.identity_of(inputs[r.line]), r.grade)):
        students[row.line], _ = services.student_for(inputs[row.line])
    event = rules.lock_event(event_id)
    groups: dict[str, ClassGroup] = {}
    tickets = []
    for row in valid:
        if row.class_label not in groups:
            groups[row.class_label] = _group(event_id, school_id, row.class_label, escort_name, user_id)
        data = services.Registration(
            student=inputs[row.line],
            guardian_name=row.guardian,
            guardian_phone=row.phone or None,
            consent=True,
            consent_method=ConsentMethod.PAPER,
            consent_given_at=given_at,
            source="import",
            registered_by_id=user_id,
            group_id=groups[row.class_label].id,
        )
        try:
            with db.session.begin_nested():
                tickets.append(
                    services.register_locked(event, students[row.line], school, data, tz, now, key=key)
                )
        except DomainError as error:
            refused.append((row, error.message))
    refused.sort(key=lambda item: item[0].line)
    kept = _keep_groups_with_tickets(groups, tickets)
    if tickets:
        signals.class_registered.send(event, school=school, groups=kept, count=len(tickets))
    return ImportResult(tickets, refused, kept)


def _keep_groups_with_tickets(groups: dict[str, ClassGroup], tickets: list[Ticket]) -> list[ClassGroup]:
    """A class whose every row was refused is no class: a new empty group would print an empty sheet
    and open an empty list at the door. Groups that held tickets before are kept as they are."""
    with_tickets = {t.group_id for t in tickets}
    kept = []
    for group in groups.values():
        if group.id in with_tickets:
            kept.append(group)
        elif not db.session.scalar(select(Ticket.id).where(Ticket.group_id == group.id).limit(1)):
            db.session.delete(group)
    db.session.flush()
    return kept


def escort_code(group: ClassGroup) -> str:
    """The teacher's code for group admission: signed like a ticket, names no child."""
    return codes.sign(codes.CodeKind.ESCORT, group.tenant_id, group.id, group.event_id)
