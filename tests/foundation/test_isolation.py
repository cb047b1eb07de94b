"""Region A's people get 404 for every object of region B — through every page and API route.

The routes come from the live URL map, so a route added later is covered without touching this file.
"""

from __future__ import annotations

import re

import pytest

from server.accounts.models import Role
from tests.conftest import bearer, login

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _tenant_rules(app):
    for rule in app.url_map.iter_rules():
        if "tenant" in rule.arguments:
            for method in sorted(rule.methods & set(METHODS)):
                yield rule, method


def _url(rule, slug: str, object_id: int, token: str) -> str:
    def fill(match: re.Match) -> str:
        converter, name = match.groups()
        if name == "tenant":
            return slug
        if converter == "int":
            return str(object_id)
        if converter == "path" or name in ("filename",):
            return "x"
        return token  # string ids: access tokens and the like

    return PARAM.sub(fill, rule.rule)


@pytest.fixture
def two_regions(world):
    """Each region gets one of everything; A's rows are created first, so B's ids never exist in A."""
    objects = {}
    for region in (world.a, world.b):
        municipality = world.municipality(region)
        school = world.school(region, municipality)
        venue = world.venue(region)
        event = world.event(region, venue_id=venue)
        ticket_id, _ = world.ticket(region, event, school_id=school)
        objects[region.slug] = {"ids": {municipality, school, venue, event, ticket_id}}
    # A's first rows have id 1 in their tables, B's have 2: a URL naming id 2 under A names nothing of A's.
    assert max(objects["yaroslavl"]["ids"]) < min(objects["irkutsk"]["ids"])
    with world.app.app_context():
        from sqlalchemy import select

        from server.extensions import db
        from server.tickets.models import Ticket
        from tenants.scoping import all_tenants

        b_ticket = db.session.scalar(all_tenants(select(Ticket).where(Ticket.tenant_id == world.b.id)))
        objects["b_token"] = b_ticket.access_token
    objects["b_id"] = min(objects["irkutsk"]["ids"])
    return objects


def _call(client, method: str, url: str, headers=None):
    return client.open(url, method=method, headers=headers or {}, json={} if method != "GET" else None)


def test_api_of_region_a_answers_404_for_region_b_objects(app, client, world, two_regions):
    _, token = world.user(world.a, Role.COORDINATOR)
    failures = []
    for rule, method in _tenant_rules(app):
        if "object_id" not in rule.rule and not any(a.endswith("_id") or a == "id" for a in rule.arguments):
            continue
        url = _url(rule, "yaroslavl", two_regions["b_id"], two_regions["b_token"])
        response = _call(client, method, url, bearer(token) if url.startswith("/api/") else None)
        if url.startswith("/api/") and response.status_code != 404:
            failures.append((method, url, response.status_code))
    assert failures == []


def test_pages_of_region_a_answer_404_for_region_b_objects(app, client, world, two_regions):
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    failures = []
    for rule, method in _tenant_rules(app):
        if rule.rule.startswith("/api/"):
            continue
        if not any(a.endswith("_id") or a in ("id", "access_token", "token") for a in rule.arguments):
            continue
        url = _url(rule, "yaroslavl", two_regions["b_id"], two_regions["b_token"])
        response = _call(client, method, url)
        if response.status_code != 404:
            failures.append((method, url, response.status_code))
    assert failures == []


def test_region_b_urls_are_404_for_a_coordinator_of_region_a(app, client, world, two_regions):
    email, token = world.user(world.a, Role.COORDINATOR)
    anonymous = app.test_client()
    login(client, email)
    failures = []
    for rule, method in _tenant_rules(app):
        url = _url(rule, "irkutsk", two_regions["b_id"], two_regions["b_token"])
        is_api = url.startswith("/api/")
        # Public routes (registration, ticket pages) answer strangers by design; everything else must not.
        probe = _call(anonymous, method, url)
        if probe.status_code not in (401, 302, 404):
            continue
        response = _call(client, method, url, bearer(token) if is_api else None)
        if response.status_code != 404:
            failures.append((method, url, response.status_code))
    assert failures == []


def test_unknown_region_is_404(client, world):
    assert client.get("/atlantis/").status_code == 404
    response = client.get("/api/v1/atlantis/events")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
