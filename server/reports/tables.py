"""The ministry's forms as tables: Russian headers, widths and kinds of every column, totals rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from server.reports.exports import Column, Kind, Table
from server.reports.participants import STATUS_LABELS, Status

SCHOOL = Column("Школа", 40)
MUNICIPALITY = Column("Муниципалитет", 26)
STUDENT_COLUMNS = [Column("ФИО", 36), Column("Класс", 8), SCHOOL, MUNICIPALITY]
# The figures of a row of the attendance summary, in the order `_figures` gives them.
FIGURE_COLUMNS = [
    Column("Записано", 11, Kind.INT),
    Column("Пришли", 10, Kind.INT),
    Column("Не пришли", 10, Kind.INT),
    Column("Отменено", 10, Kind.INT),
    Column("Явка, %", 9, Kind.NUMBER),
]

PARTICIPANT_COLUMNS = [
    *STUDENT_COLUMNS,
    Column("Мероприятие", 40),
    Column("Дата мероприятия", 18, Kind.DATETIME),
    Column("Площадка", 36),
    Column("Формат", 10),
    Column("Время отметки", 18, Kind.DATETIME),
    Column("Как отмечен", 22),
    Column("Статус", 18),
]


def participants_table(rows: Iterable[tuple]) -> Table:
    """The participants form from `participants.export_rows`; the totals row counts who came."""
    came = {str(STATUS_LABELS[Status.ADMITTED]), str(STATUS_LABELS[Status.LEFT])}
    admitted = 0

    def counted() -> Iterator[tuple]:
        nonlocal admitted
        for row in rows:
            if row[-1] in came:
                admitted += 1
            yield row

    def totals(count: int, sums: list) -> tuple:
        return (f"Итого: {count}", *[None] * 9, f"пришли: {admitted}")

    return Table("Участники", PARTICIPANT_COLUMNS, counted(), totals=totals)


SUMMARY_COLUMNS = [
    Column("Уровень", 14),
    Column("Муниципалитет", 28),
    SCHOOL,
    Column("Класс", 10),
    Column("Квота", 9, Kind.INT),
    Column("Занято по квоте", 10, Kind.INT),
    *FIGURE_COLUMNS,
]


def _figures(f) -> tuple:
    return (f.registered, f.admitted, f.no_show, f.cancelled, f.turnout)


def summary_table(summary: dict) -> Table:
    """By municipality, school and class: only the municipality rows carry the quota; the totals row
    sums the municipality rows (not every level, which would count each student three times)."""

    def rows():
        for m in summary["by_municipality"]:
            yield ("Муниципалитет", m.name, None, None, m.figures.quota, m.figures.quota_used,
                   *_figures(m.figures))  # fmt: skip
            for s in m.children:
                yield ("Школа", m.name, s.name, None, None, None, *_figures(s.figures))
                for c in s.children:
                    yield ("Класс", m.name, s.name, str(c.name), None, None, *_figures(c.figures))

    total = summary["total"]

    def totals(count: int, sums: list) -> tuple:
        quota = sum(m.figures.quota or 0 for m in summary["by_municipality"])
        used = sum(m.figures.quota_used or 0 for m in summary["by_municipality"])
        return ("Итого", None, None, None, quota, used, *_figures(total))

    return Table("Муниципалитеты и школы", SUMMARY_COLUMNS, rows(), totals=totals)


VENUE_COLUMNS = [
    Column("Площадка", 36),
    Column("Мероприятие", 40),
    Column("Дата", 18, Kind.DATETIME),
    Column("Формат", 10),
    Column("Мест", 8, Kind.INT),
    *FIGURE_COLUMNS,
]


def venues_table(summary: dict) -> Table:
    def rows():
        for v in summary["by_venue"]:
            for e in v.children:
                yield (v.name, e.name, e.extra["starts_at"], e.extra["format"], e.figures.quota,
                       *_figures(e.figures))  # fmt: skip

    total = summary["total"]

    def totals(count: int, sums: list) -> tuple:
        return ("Итого", f"мероприятий: {count}", None, None, sums[4], *_figures(total))

    return Table("Площадки и мероприятия", VENUE_COLUMNS, rows(), totals=totals)


SEASON_COUNT_COLUMNS = [
    Column("Проб записано", 10, Kind.INT),
    Column("Очно", 8, Kind.INT),
    Column("Онлайн", 8, Kind.INT),
]
SEASON_STUDENT_COLUMNS = [
    *STUDENT_COLUMNS,
    *SEASON_COUNT_COLUMNS,
    Column("Посетил", 9, Kind.INT),
    Column("Лимит проб", 9),
    Column("Лимит очных", 9),
    Column("Итог", 20),
]
SEASON_TOTAL_COLUMNS = [
    Column("Учеников", 10, Kind.INT),
    *SEASON_COUNT_COLUMNS,
    Column("Посетили", 9, Kind.INT),
    Column("Исчерпали лимит", 10, Kind.INT),
]


def season_tables(season: dict) -> list[Table]:
    limits = (season["limit"], season["in_person_limit"])
    students = Table(
        "Ученики",
        SEASON_STUDENT_COLUMNS,
        (
            (
                r.full_name,
                r.grade,
                r.school,
                r.municipality,
                r.trials,
                r.in_person,
                r.online,
                r.attended,
                *limits,
                r.verdict,
            )
            for r in season["students"]
        ),  # fmt: skip
    )
    counted = ("students", "trials", "in_person", "online", "attended", "at_limit")
    schools = Table(
        "Школы",
        [SCHOOL, MUNICIPALITY, *SEASON_TOTAL_COLUMNS],
        ((s["name"], s["municipality"], *(s[k] for k in counted)) for s in season["schools"]),
    )
    municipalities = Table(
        "Муниципалитеты",
        [Column("Муниципалитет", 30), *SEASON_TOTAL_COLUMNS],
        ((m["name"], *(m[k] for k in counted)) for m in season["municipalities"]),
    )
    return [students, schools, municipalities]
