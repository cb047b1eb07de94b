"""Russia's 89 federal subjects (regions.json): the defaults `flask tenants create <slug>` fills in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Region:
    code: str
    slug: str
    name: str
    timezone: str


@cache
def regions() -> dict[str, Region]:
    raw = json.loads((Path(__file__).parent / "regions.json").read_text(encoding="utf-8"))
    return {item["slug"]: Region(**item) for item in raw}


def region(slug: str) -> Region | None:
    return regions().get(slug)


@cache
def time_zones() -> tuple[str, ...]:
    """The time zones the subjects live in, west to east (a region picks one of these)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    zones = {r.timezone for r in regions().values()}
    return tuple(sorted(zones, key=lambda zone: (now.astimezone(ZoneInfo(zone)).utcoffset(), zone)))
