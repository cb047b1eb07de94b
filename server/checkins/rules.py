"""The door's rules, each defined once: a row of `RULES` that compiles to a Python check and to SQL.

Every admission path (kiosk scan, manual, online link, offline sync, class checklist) asks
`broken()` which rule a ticket breaks, in Python. The door's scan on PostgreSQL also admits in the
statement that reads the ticket (`server.door.scan`), under the `sql()` of the very same rules, and
checks the row it wrote against `broken()` before it commits: if the two ever disagree, the scan's
transaction rolls back. So a rule is added, changed or removed here, in one place, for both.

Conditions are small expression trees over named facts (the door's read of a kiosk and a ticket,
plus the scan's own values), in the manner of pretix's `SQLLogic`. "Once" is not a condition: the
database's partial unique index on admitted rows enforces it (`checkins.models`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import LargeBinary, and_, bindparam, func, literal
from sqlalchemy.sql.elements import ColumnElement

from server.catalog.models import EventFormat
from server.checkins.models import ScanResult
from server.security import same
from server.tickets.models import TicketStatus

Facts = Mapping[str, Any]  # the door's read by name (`services.DOOR_COLUMNS`) and the scan's values
Columns = Any  # a `ColumnCollection` of the same names, for SQL


class Condition:
    """A rule's condition: true when the ticket may pass. Compiles to Python and to SQL."""

    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError

    def sql(self, columns: Columns) -> ColumnElement[bool]:
        raise NotImplementedError


@dataclass(frozen=True)
class Fact:
    """A named value: a column of the door's read, or a bound value of the scan (`param=True`)."""

    name: str
    param: bool = False
    type_: Any = None

    def value(self, facts: Facts) -> Any:
        return facts[self.name]

    def sql(self, columns: Columns) -> Any:
        return bindparam(self.name, type_=self.type_) if self.param else columns[self.name]


@dataclass(frozen=True)
class Const:
    value_: Any

    def value(self, facts: Facts) -> Any:
        return self.value_

    def sql(self, columns: Columns) -> Any:
        return self.value_


@dataclass(frozen=True)
class MinutesBefore:
    """`moment` minus `minutes` minutes (both facts)."""

    moment: Fact
    minutes: Fact

    def value(self, facts: Facts) -> Any:
        return self.moment.value(facts) - timedelta(minutes=self.minutes.value(facts))

    def sql(self, columns: Columns) -> Any:
        return self.moment.sql(columns) - self.minutes.sql(columns) * literal(timedelta(minutes=1))


Operand = Fact | Const | MinutesBefore


@dataclass(frozen=True)
class Compare(Condition):
    left: Operand
    op: str  # one of OPERATORS
    right: Operand

    def holds(self, facts: Facts) -> bool:
        left, right = self.left.value(facts), self.right.value(facts)
        if left is None or right is None:
            return self.op == "is" and left is right  # SQL: a comparison with NULL is never true
        return OPERATORS[self.op][0](left, right)

    def sql(self, columns: Columns) -> ColumnElement[bool]:
        return OPERATORS[self.op][1](self.left.sql(columns), self.right.sql(columns))


OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any, Any], Any]]] = {
    "==": (lambda a, b: a == b, lambda a, b: a == b),
    "!=": (lambda a, b: a != b, lambda a, b: a != b),
    ">=": (lambda a, b: a >= b, lambda a, b: a >= b),
    "<": (lambda a, b: a < b, lambda a, b: a < b),
    "is": (lambda a, b: a is b, lambda a, b: a.is_(b)),
}


@dataclass(frozen=True)
class IssuedCode(Condition):
    """The scanned code is, whole, the one the ticket was issued: compared in constant time in
    Python, as SHA-256 digests in SQL (no timing says how much of a forged code was right)."""

    issued: Fact
    scanned: Fact

    def holds(self, facts: Facts) -> bool:
        issued = self.issued.value(facts)
        return issued is not None and same(issued, self.scanned.value(facts))

    def sql(self, columns: Columns) -> ColumnElement[bool]:
        digest = bindparam(f"{self.scanned.name}_digest", type_=LargeBinary)
        return func.sha256(func.convert_to(self.issued.sql(columns), "UTF8")) == digest


@dataclass(frozen=True)
class All(Condition):
    conditions: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(condition.holds(facts) for condition in self.conditions)

    def sql(self, columns: Columns) -> ColumnElement[bool]:
        return and_(*(condition.sql(columns) for condition in self.conditions))


class Stage(StrEnum):
    """Which part of the door asks: the kiosk before anything, the code, then the ticket."""

    KIOSK = "kiosk"  # broken: 401 (revoked), and no scan row
    REGION = "region"  # broken: 404 (the kiosk of another region than the URL's), and no scan row
    CODE = "code"  # broken: `invalid`
    TICKET = "ticket"  # broken: the rule's own result and message


@dataclass(frozen=True)
class Rule:
    name: str
    stage: Stage
    condition: Condition
    result: ScanResult
    message: str  # formatted with the facts and `opens`/`closes` as local times (`services`)
    at_kiosk_only: bool = False  # the online link and a coordinator's manual admission skip it


def _ticket(name: str) -> Fact:
    return Fact(name)


_NOW = Fact("now", param=True)
_INVALID = "Билет недействителен"

RULES: tuple[Rule, ...] = (
    Rule(
        "kiosk",
        Stage.KIOSK,
        Compare(Fact("kiosk_revoked_at"), "is", Const(None)),
        ScanResult.INVALID,
        "Киоск не найден или отозван.",
    ),
    Rule(
        "region",
        Stage.REGION,
        Compare(Fact("kiosk_tenant_id"), "==", Fact("region_id", param=True)),
        ScanResult.INVALID,
        "Этот киоск другого региона.",
    ),
    Rule(
        "code",
        Stage.CODE,
        All((IssuedCode(Fact("code"), Fact("scanned_code", param=True)),
             Compare(Fact("event_id"), "==", Fact("scanned_event_id", param=True)))),
        ScanResult.INVALID,
        _INVALID,
    ),
    Rule(
        "cancelled",
        Stage.TICKET,
        Compare(Fact("status"), "!=", Const(TicketStatus.CANCELLED)),
        ScanResult.CANCELLED,
        "Билет аннулирован",
    ),
    Rule(
        "venue",
        Stage.TICKET,
        Compare(Fact("venue_id"), "==", Fact("kiosk_venue_id")),
        ScanResult.WRONG_VENUE,
        "Другая площадка: билет на «{venue_name}»",
        at_kiosk_only=True,
    ),
    Rule(
        "online",
        Stage.TICKET,
        Compare(Fact("event_format"), "!=", Const(EventFormat.ONLINE)),
        ScanResult.WRONG_VENUE,
        "Это онлайн-событие: вход по личной ссылке",
        at_kiosk_only=True,
    ),
    Rule(
        "window_open",
        Stage.TICKET,
        Compare(_NOW, ">=", MinutesBefore(Fact("starts_at"), Fact("opens_minutes"))),
        ScanResult.OUTSIDE_WINDOW,
        "Вход ещё не открыт: откроется {opens}",
    ),
    Rule(
        "window_closed",
        Stage.TICKET,
        Compare(_NOW, "<", Fact("ends_at")),
        ScanResult.OUTSIDE_WINDOW,
        "Событие уже закончилось (в {closes})",
    ),
)  # fmt: skip


def broken(facts: Facts, stage: Stage, at_kiosk: bool, rules: tuple[Rule, ...] = RULES) -> Rule | None:
    """The first rule of this stage the facts break, or None: the Python side of every rule."""
    for rule in rules:
        applies = rule.stage is stage and (at_kiosk or not rule.at_kiosk_only)
        if applies and not rule.condition.holds(facts):
            return rule
    return None


def may_pass(columns: Columns, rules: tuple[Rule, ...] = RULES) -> ColumnElement[bool]:
    """The SQL side: every rule at a kiosk, as one condition over `columns` and the scan's binds."""
    return and_(*(rule.condition.sql(columns) for rule in rules))
