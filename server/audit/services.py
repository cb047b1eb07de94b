"""Recording audit entries; callers pass ids, never personal data."""

from __future__ import annotations

from typing import Any

from server.audit.models import AuditEntry
from server.extensions import db
from tenants.scoping import current_tenant_id


def record(
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    user_id: int | None = None,
    kiosk_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=current_tenant_id(),  # the region in scope now, even if the flush comes after it
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_user_id=user_id,
        actor_kiosk_id=kiosk_id,
        details=details,
    )
    db.session.add(entry)
    return entry
