"""API v1 plumbing shared by every capability: JSON errors, bearer principals, body parsing, OpenAPI.

Each capability owns an `api.py` with its own blueprint under `/api/v1`; `api_blueprint()` makes one
CSRF-exempt (the API takes bearer tokens only, never the session cookie).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ValidationError

from server.errors import DomainError, Invalid
from server.extensions import csrf

PREFIX = "/api/v1"
M = TypeVar("M", bound=BaseModel)


def api_blueprint(name: str, import_name: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=PREFIX)
    csrf.exempt(bp)
    return bp


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The SPEC's error object: `{"error": {"code": …, "message": …}}`."""
    return {"error": {"code": code, "message": message, **extra}}


def error_response(status: int, code: str, message: str, **extra: Any):
    return jsonify(error_body(code, message, **extra)), status


def domain_error_response(error: DomainError):
    return error_response(error.status, error.code, error.message, **error.details)


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against a pydantic model; anything else is a 422 in the SPEC's form."""
    return validated(model, request.get_json(silent=True))


def validated(model: type[M], payload: object) -> M:
    """A decoded JSON body as `model`, or `Invalid` (422) naming the first field that is wrong."""
    if not isinstance(payload, dict):
        raise Invalid("Ожидается JSON-объект в теле запроса.", code="invalid_json")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        first = fields[0]
        raise Invalid(f"Поле «{first['field']}»: {first['message']}", fields=fields) from None


def documented(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    auth: str = "bearer",
    responses: dict[int, str] | None = None,
) -> Callable:
    """Attach OpenAPI facts to a view; `server.api.openapi` walks the real URL map and reads them."""

    def wrap(view: Callable) -> Callable:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "auth": auth,
            "responses": responses or {},
        }
        return view

    return wrap
