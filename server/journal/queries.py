"""The coordinator's audit log: one list from the three places actions are recorded.

Admissions are the check-in log's admitted rows and consents given are the consent records (each is
the record of that act, written in the same transaction); everything else is an `AuditEntry`. Each
filter reads only its sources, newest first, at most `LIMIT` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext, lazy_ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.accounts.models import ROLE_LABELS, User
from server.audit.models import AuditEntry
from server.checkins.models import AdmissionMethod, Checkin, Kiosk, ScanResult
from server.extensions import db
from server.privacy.models import REASON_LABELS
from server.reports.audit import REPORT_LABELS
from server.tickets.models import CONSENT_METHOD_LABELS, Consent

LIMIT = 300

# Filter → (label, audit actions it shows). Admissions and consents given come from their own tables.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admissions": (_l("Проход (киоск, вручную, офлайн-синхронизация)"), ()),
    "cancellations": (_l("Отмены билетов"), ("ticket.cancelled",)),
    "kiosks": (
        _l("Киоски: создание, привязка, отзыв"),
        ("kiosk.create", "kiosk.renew_pairing", "kiosk.pair", "kiosk.revoke"),
    ),
    "exports": (_l("Выгрузки"), ("report.export", "export.class_sheet", "export.region")),
    "users": (
        _l("Пользователи и роли"),
        (
            "user.invite",
            "user.invite_resend",
            "user.accept_invitation",
            "user.change_role",
            "user.deactivate",
            "user.reactivate",
            "user.role_granted",
            "user.role_revoked",
            "user.created",
            "region.create",
            "region.suspend",
            "region.resume",
            "region.operator",
        ),
    ),
    "consent": (_l("Согласия: даны и отозваны"), ("consent.withdrawn",)),
    "erasures": (_l("Удаление данных"), ("privacy.erased",)),
    "keys": (_l("Ключи подписи"), ("keys.rotated",)),
}

ACTION_LABELS = {
    "ticket.cancelled": _l("билет отменён"),
    "kiosk.create": _l("киоск создан"),
    "kiosk.renew_pairing": _l("новый код привязки киоска"),
    "kiosk.pair": _l("киоск привязан"),
    "kiosk.revoke": _l("киоск отозван"),
    "report.export": _l("выгрузка отчёта"),
    "export.class_sheet": _l("печать списка класса"),
    "export.region": _l("выгрузка всех данных региона"),
    "user.role_granted": _l("выдана роль"),
    "user.invite": _l("приглашение отправлено"),
    "user.invite_resend": _l("приглашение отправлено повторно"),
    "user.accept_invitation": _l("приглашение принято"),
    "user.change_role": _l("роль изменена"),
    "user.deactivate": _l("доступ отключён"),
    "user.reactivate": _l("доступ возвращён"),
    "region.create": _l("регион создан"),
    "region.suspend": _l("регион приостановлен"),
    "region.resume": _l("регион возобновлён"),
    "region.operator": _l("оператор ПДн изменён"),
    "user.role_revoked": _l("снята роль"),
    "user.created": _l("создан пользователь"),
    "consent.withdrawn": _l("согласие отозвано"),
    "privacy.erased": _l("данные удалены"),
    "keys.rotated": _l("ключ подписи сменён"),
    "kiosk.search": _l("поиск по фамилии на киоске"),
    "event.cancelled": _l("событие отменено"),
    "mail.settings": _l("настройки писем изменены"),
    "schools.import": _l("импорт школ"),
}

OBJECT_LABELS = {
    "ticket": _l("билет"),
    "student": _l("ученик"),
    "kiosk": _l("киоск"),
    "event": lazy_ngettext("событие", "событий", 1),
    "class_group": _l("класс"),
    "membership": _l("роль"),
    "signing_key": _l("ключ подписи"),
    "tenant": _l("регион"),
    "report": _l("отчёт"),
    "school": _l("школа"),
    "user": _l("пользователь"),
    "mail_settings": _l("настройки писем"),
}

_EVENT = lazy_ngettext("событие", "событий", 1)
_VENUE = lazy_ngettext("площадка", "площадок", 1)

# What an entry's details hold, by key: the log shows these words, never the stored JSON.
DETAIL_LABELS = {
    "by": _l("кем"),
    "event_id": _EVENT,
    "event": _EVENT,
    "tickets": _l("билеты"),
    "ticket_ids": _l("найдены билеты"),
    "letters": _l("букв в запросе"),
    "reason": _l("основание"),
    "cancelled": _l("отменено"),
    "key_id": _l("ключ"),
    "role": _l("роль"),
    "target_user_id": _l("пользователь"),
    "member_user_id": _l("пользователь"),
    "format": _l("формат"),
    "rows": _l("строк"),
    "via": _l("через"),
    "venue_id": _VENUE,
    "venue": _VENUE,
    "municipality_id": _l("муниципалитет"),
    "municipality": _l("муниципалитет"),
    "school_id": _l("школа"),
    "school": _l("школа"),
    "report": _l("отчёт"),
    "scope": _l("охват"),
    "filters": _l("фильтры"),
    "before": _l("было"),
    "after": _l("стало"),
    "grade": _l("параллель"),
    "class": _l("класс"),
    "status": _l("статус"),
    "q": _l("фамилия начинается с"),
    "from": _l("с"),
    "to": _l("по"),
    "programme": _l("программа"),
    "meeting": _l("собрание"),
    "created": _l("создано школ"),
    "updated": _l("обновлено школ"),
    "municipalities": _l("создано муниципалитетов"),
    "invited": _l("приглашено"),
}
# Keys whose value is the id of a row: shown as «№ 7».
_ID_KEYS = {
    "event_id", "event", "venue_id", "venue", "municipality_id", "municipality", "school_id", "school",
    "target_user_id", "member_user_id", "key_id", "meeting",
}  # fmt: skip
# Stored values (enum values, codes) by key, in words; packages above this one add theirs
# (`name_detail_values`) so the audit log needs none of their modules.
DETAIL_VALUES: dict[str, dict[str, Any]] = {
    "role": {role.value: label for role, label in ROLE_LABELS.items()},
    "format": {"csv": "CSV", "xlsx": "XLSX", "pdf": "PDF", "email": _l("письмо на почту")},
    "via": {"cli": _l("командную строку сервера")},
    "kind": {
        "region": _l("весь регион"),
        "municipality": _l("муниципалитет"),
        "school": _l("школа"),
        "venue": _VENUE,
    },
}


for key, labels in (("report", REPORT_LABELS), ("reason", REASON_LABELS)):  # the report, the «основание»
    DETAIL_VALUES[key] = {str(value): label for value, label in labels.items()}


ADMISSION_LABELS = {
    AdmissionMethod.SCAN: _l("проход по QR на киоске"),
    AdmissionMethod.MANUAL: _l("проход вручную (по фамилии)"),
    AdmissionMethod.GROUP: _l("проход по списку класса"),
    AdmissionMethod.ONLINE: _l("вход на онлайн-событие"),
    AdmissionMethod.OFFLINE: _l("проход офлайн (синхронизирован)"),
}


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str
    what: str
    object: str
    actor: str
    details: str


def _window(query, column, since: datetime | None, until: datetime | None):
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query.order_by(column.desc()).limit(LIMIT)


def _actor(user: User | None, kiosk: Kiosk | None) -> str:
    if user is not None:
        return user.email
    if kiosk is not None:
        return gettext("киоск «%(name)s»", name=kiosk.name)
    return "—"


def _admissions(since, until, method: AdmissionMethod | None) -> list[Line]:
    query = (
        select(Checkin, Kiosk, User)
        .outerjoin(Kiosk, Kiosk.id == Checkin.kiosk_id)
        .outerjoin(User, User.id == Checkin.user_id)
        .where(Checkin.result == ScanResult.OK)
    )
    if method is not None:
        query = query.where(Checkin.method == method)
    rows = db.session.execute(_window(query, Checkin.created_at, since, until))
    return [
        Line(
            checkin.created_at,
            "admissions",
            str(ADMISSION_LABELS.get(checkin.method, checkin.method.value)),
            gettext("билет № %(id)s", id=checkin.ticket_id) if checkin.ticket_id else "—",
            _actor(user, kiosk),
            gettext("конфликт: два офлайн-прохода") if checkin.conflict else "",
        )
        for checkin, kiosk, user in rows
    ]


def _consents_given(since, until) -> list[Line]:
    query = select(Consent, User).outerjoin(User, User.id == Consent.recorded_by_id)
    rows = db.session.execute(_window(query, Consent.created_at, since, until))
    return [
        Line(
            consent.created_at,
            "consent",
            gettext("согласие дано"),
            gettext("ученик № %(id)s", id=consent.student_id),
            _actor(user, None) if user else gettext("родитель"),
            gettext(
                "%(method)s; редакция %(version)s",
                method=CONSENT_METHOD_LABELS[consent.method],
                version=consent.text_version,
            ),
        )
        for consent, user in rows
    ]


_BY_WORDS = (
    ("erasure:", _l("удаление данных: ")),
    ("guardian", _l("родитель")),
    ("coordinator:", _l("координатор № ")),
    ("municipal:", _l("муниципальный координатор № ")),
    ("school:", _l("школа, сотрудник № ")),
    ("retention", _l("срок хранения")),
)


def _by(value: str) -> str:
    for raw, words in _BY_WORDS:
        value = value.replace(raw, str(words))
    return value


Names = Mapping[str, Mapping[Any, str]]  # by detail key: row id → the row's name, where the page knows it


def detail_value(key: str, value: Any, names: Names | None = None) -> str:
    """One detail's value as a person reads it: ids with «№» (or the name the page knows), codes in
    words, nested details in brackets, «—» for what was not given."""
    if key == "by":
        return _by(str(value))
    if isinstance(value, bool):
        return gettext("да") if value else gettext("нет")
    if isinstance(value, list):  # of ids (tickets); a number alone is a count
        return (
            ", ".join(f"№ {v}" if isinstance(v, int) else detail_value(key, v, names) for v in value) or "—"
        )
    if isinstance(value, dict):
        if key == "scope":  # the report's scope: its kind and, below the region, its id
            kind = value.get("kind")
            words = str(DETAIL_VALUES["kind"].get(str(kind), kind))
            if kind == "region" or value.get("id") is None:
                return words
            return f"{words} {detail_value(str(kind), value['id'], names)}"
        shown = {k: v for k, v in value.items() if v is not None}
        return f"({detail_text(shown, names, ', ')})" if shown else "—"
    if value is None:
        return "—"
    words = DETAIL_VALUES.get(key, {}).get(str(value))
    if words is not None:
        return str(words)
    if key in _ID_KEYS and (isinstance(value, int) or str(value).isdigit()):
        known = (names or {}).get(key.removesuffix("_id"), {})
        return known.get(int(value)) or f"№ {value}"
    return str(value)


def detail_text(details: Mapping[str, Any], names: Names | None = None, separator: str = "; ") -> str:
    """An entry's details (or a report's filters) as «label: value» pairs; what is None is left out."""
    return separator.join(
        f"{DETAIL_LABELS.get(key, key)}: {detail_value(key, value, names)}"
        for key, value in details.items()
        if value is not None
    )


def _details(entry: AuditEntry) -> str:
    return detail_text(entry.details or {})


def _entry_actor(entry: AuditEntry, user: User | None, kiosk: Kiosk | None) -> str:
    """The guardian acts without an account: named as such where the entry says so."""
    by = str((entry.details or {}).get("by", ""))
    if user is None and kiosk is None and (entry.action == "consent.withdrawn" or "guardian" in by):
        return gettext("родитель (страница билета)")
    return _actor(user, kiosk)


def _entries(since, until, actions: tuple[str, ...] | None) -> list[Line]:
    query = (
        select(AuditEntry, User, Kiosk)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .outerjoin(Kiosk, Kiosk.id == AuditEntry.actor_kiosk_id)
    )
    if actions is not None:
        query = query.where(AuditEntry.action.in_(actions))
    rows = db.session.execute(_window(query, AuditEntry.created_at, since, until))
    kind_of = {action: kind for kind, (_, actions_) in KINDS.items() for action in actions_}
    return [
        Line(
            entry.created_at,
            kind_of.get(entry.action, "other"),
            str(ACTION_LABELS.get(entry.action, entry.action)),
            f"{OBJECT_LABELS.get(entry.object_type, entry.object_type)} № {entry.object_id}"
            if entry.object_id is not None
            else str(OBJECT_LABELS.get(entry.object_type, entry.object_type)),
            _entry_actor(entry, user, kiosk),
            _details(entry),
        )
        for entry, user, kiosk in rows
    ]


def audit_log(
    kind: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    method: AdmissionMethod | None = None,
) -> list[Line]:
    """Newest first; `kind` one of `KINDS` (all when None), `method` narrows admissions."""
    lines: list[Line] = []
    if kind in (None, "admissions"):
        lines += _admissions(since, until, method)
    if kind in (None, "consent"):
        lines += _consents_given(since, until)
    if kind is None:
        lines += _entries(since, until, None)
    elif kind != "admissions":
        lines += _entries(since, until, KINDS[kind][1])
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:LIMIT]
