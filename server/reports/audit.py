"""Every export is audited: personal data leaves the system only through these downloads."""

from __future__ import annotations

from server.accounts.auth import page_principal
from server.audit.services import record
from server.reports.scope import LiveScope, describe

EXPORT_ACTION = "report.export"
REPORT_LABELS = {
    "participants": "Список участников",
    "attendance_summary": "Сводка по муниципалитетам и школам",
    "trials_season": "Профпробы за сезон",
    "event_attendance": "Посещаемость мероприятия",
    "parents_meeting": "Родительское собрание (Приложение 2)",
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
