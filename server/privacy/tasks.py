"""The scheduled retention purge: daily, each region's seasons that ended `RETENTION_GRACE_DAYS` ago."""

from __future__ import annotations

import logging

from server.jobs import crontab, periodic_task
from server.privacy.retention import purge_finished_seasons

log = logging.getLogger("propusk.privacy")


@periodic_task(crontab(hour="2", minute="30"))
def purge_finished_seasons_daily() -> None:
    """Idempotent: a day it finds nothing due erases nothing (counts logged, never names)."""
    for slug, result in purge_finished_seasons().items():
        if result.students or result.erasure_records_removed or result.audit_entries_removed:
            log.info(
                "retention %s: %d students erased, %d erasure records and %d audit entries expired",
                slug,
                result.students,
                result.erasure_records_removed,
                result.audit_entries_removed,
            )
