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
