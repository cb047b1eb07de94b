"""The OpenAPI 3 document, built from the live URL map so it cannot drift from the routes."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify

from server.api import PREFIX

bp = Blueprint("openapi", __name__)

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_ERROR = {"$ref": "#/components/schemas/Error"}
_STATUS_TEXT = {
    200: "OK",
    201: "Создано",
    204: "Нет содержимого",
    400: "Некорректный запрос",
    401: "Нужна аутентификация",
    403: "Недостаточно прав",
    404: "Не найдено",
    409: "Конфликт (нет мест, квота, лимит сезона)",
    413: "Слишком большое тело запроса",
    422: "Данные не прошли проверку",
    429: "Слишком много запросов",
}
# Any operation may answer these: a body past the limit, a rate limit (per client, or Redis down).
_ALWAYS = {200, 400, 401, 403, 404, 413, 422, 429}


def build_document() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        }
    }
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint.startswith("openapi."):
            continue
        view = current_app.view_functions[rule.endpoint]
        facts = getattr(view, "openapi", {"summary": rule.endpoint, "auth": "bearer", "body": None})
        path = _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if conv == "int" else "string"},
            }
            for conv, name in _CONVERTER.findall(rule.rule)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "description": text}
            | {"schema": {"type": "string"}}
            for name, text in facts.get("query", {}).items()
        ]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": facts["summary"],
                "parameters": params,
                "responses": {
                    str(code): {
                        "description": _STATUS_TEXT.get(code, "Ответ"),
                        **({"content": {"application/json": {"schema": _ERROR}}} if code >= 400 else {}),
                    }
                    for code in sorted({*_ALWAYS, *facts.get("responses", {})})
                },
            }
            if facts["auth"] == "public":
                operation["security"] = []
            body = facts.get("body")
            if body is not None and method in {"POST", "PUT", "PATCH"}:
                schema = body.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[body.__name__] = schema
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}
                    },
                }
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "Propusk API", "version": "1.0.0"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@bp.get(f"{PREFIX}/openapi.json")
def openapi_json():
    return jsonify(build_document())
