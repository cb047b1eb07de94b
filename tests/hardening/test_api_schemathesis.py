"""Schemathesis against /api/v1/openapi.json, as a coordinator and as a kiosk, on PostgreSQL: no 500,
every error in the SPEC's form, every answered status documented.

All of its checks but one: `positive_data_acceptance` wants every schema-valid body accepted, while
business rules (an end after the start, a venue that exists, three letters for a search) answer a
documented 422 that no JSON schema can express."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import POSTGRES, bearer
from tests.kiosk.helpers import paired_kiosk

pytestmark = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL refuses what SQLite stores (ids, NUL)")

EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


def _document_app():
    """An app only to read the document from (it is built from the URL map, whatever the database);
    the cases run against the session's app on PostgreSQL. Built only where the tests run."""
    from server import create_app

    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})


schema = (
    schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
    if POSTGRES
    else schemathesis.openapi.from_dict(  # one placeholder operation, collected and skipped
        {
            "openapi": "3.0.3",
            "info": {"title": "skipped on SQLite", "version": "0"},
            "paths": {"/healthz": {"get": {"responses": {"200": {"description": "-"}}}}},
        }
    )
)


@pytest.fixture
def tokens(app, client, world):
    _, coordinator = world.user(world.a)
    event = world.event(world.a)
    from tests.kiosk.test_checkins import _venue_of

    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    return {"coordinator": coordinator, "kiosk": kiosk.token}


def _run(app, case, token: str) -> None:
    if "tenant" in (case.path_parameters or {}):
        case.path_parameters["tenant"] = "yaroslavl"
    case.call_and_validate(app=app, headers=bearer(token), excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@EXAMPLES
def test_api_as_a_coordinator(app, case, tokens):
    _run(app, case, tokens["coordinator"])


@schema.parametrize()
@EXAMPLES
def test_api_as_a_kiosk(app, case, tokens):
    _run(app, case, tokens["kiosk"])
