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
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # JSON nested past Python's recursion limit
        payload = None
    return validated(model, payload)


def validated(model: type[M], payload: object) -> M:
    """A decoded JSON body as `model`, or `Invalid` (422) naming the first field that is wrong."""
    if not isinstance(payload, dict):
        raise Invalid("Ожидается JSON-объект в теле запроса.", code="invalid_json")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": validation_message(err)}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = fields[0]
        raise Invalid(f"Поле «{first['field']}»: {first['message']}", fields=fields) from None


_VALIDATION = {
    "missing": "обязательное поле",
    "string_type": "нужна строка",
    "int_type": "нужно целое число",
    "int_parsing": "нужно целое число",
    "int_from_float": "нужно целое число",
    "float_type": "нужно число",
    "float_parsing": "нужно число",
    "bool_type": "нужно true или false",
    "bool_parsing": "нужно true или false",
    "datetime_type": "нужны дата и время в формате ISO 8601",
    "datetime_parsing": "нужны дата и время в формате ISO 8601, например 2026-04-20T10:00:00+03:00",
    "datetime_from_date_parsing": "нужны дата и время в формате ISO 8601",
    "date_parsing": "нужна дата в формате ГГГГ-ММ-ДД",
    "list_type": "нужен список",
    "dict_type": "нужен объект",
    "model_type": "нужен объект",
    "extra_forbidden": "неизвестное поле",
    "uuid_parsing": "нужен UUID",
    "uuid_type": "нужен UUID",
}


def validation_message(err: dict) -> str:
    """pydantic's reason in Russian: the client's people read it («String should have…» they should not)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "не может быть пустым" if least == 1 else f"слишком короткое: нужно не меньше {least} символов"
    if kind == "string_too_long":
        return f"слишком длинное: не больше {ctx.get('max_length')} символов"
    if kind in ("too_short", "too_long"):
        return "неверное число элементов"
    if kind in ("greater_than_equal", "greater_than"):
        return f"должно быть не меньше {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"должно быть не больше {ctx.get('le', ctx.get('lt'))}"
    if kind in ("literal_error", "enum"):
        return f"допустимые значения: {ctx.get('expected', '')}".replace(" or ", " или ")
    if kind == "value_error":
        return str(ctx.get("error") or "некорректное значение")
    return _VALIDATION.get(kind, "некорректное значение")


def documented(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    auth: str = "bearer",
    responses: dict[int, str] | None = None,
    query: dict[str, str] | None = None,
) -> Callable:
    """Attach OpenAPI facts to a view; `server.api.openapi` walks the real URL map and reads them."""

    def wrap(view: Callable) -> Callable:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "auth": auth,
            "responses": responses or {},
            "query": query or {},
        }
        return view

    return wrap
