"""Every export is audited: personal data leaves the system only through these downloads."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from server.accounts.auth import page_principal
from server.audit.services import record
from server.reports.scope import LiveScope, describe

EXPORT_ACTION = "report.export"
REPORT_LABELS = {
    "participants": _l("Список участников"),
    "attendance_summary": _l("Сводка по муниципалитетам и школам"),
    "trials_season": _l("Профпробы за сезон"),
    "event_attendance": _l("Посещаемость мероприятия"),
    "parents_meeting": _l("Родительское собрание (Приложение 2)"),
}


def record_export(report: str, fmt: str, scope: LiveScope, filters: dict, *, rows: int) -> None:
    """Who (the signed-in user), when (the entry's time), what, in which scope, how many rows."""
    principal = page_principal()
    record(
        EXPORT_ACTION,
        "report",
        None,
        user_id=principal.user_id if principal else None,
        report=report,
        format=fmt,
        scope=describe(scope),
        filters=filters,
        rows=rows,
    )
