"""Errors: JSON in the SPEC's form under /api/, a Russian page elsewhere. Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from server.api import PREFIX, domain_error_response, error_response
from server.errors import DomainError
from server.extensions import db

log = logging.getLogger("propusk")

CODES = {
    400: ("bad_request", "Некорректный запрос."),
    401: ("unauthenticated", "Нужна аутентификация."),
    403: ("forbidden", "Недостаточно прав."),
    404: ("not_found", "Не найдено."),
    405: ("method_not_allowed", "Метод не поддерживается."),
    409: ("conflict", "Конфликт с текущим состоянием."),
    413: ("too_large", "Слишком большой запрос."),
    415: ("unsupported_media_type", "Ожидается JSON."),
    422: ("invalid", "Данные заполнены неверно."),
    429: ("rate_limited", "Слишком много запросов, попробуйте через минуту."),
    500: ("internal_error", "Внутренняя ошибка сервера. Мы уже разбираемся."),
}


def _wants_json() -> bool:
    return request.path.startswith(PREFIX) or request.path.startswith("/api/")


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def install(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        if _wants_json():
            return domain_error_response(error)
        return _page(error.status, error.message)

    @app.errorhandler(DataError)
    def _data(error: DataError):
        """A value the database refuses (a number past its `integer`, a NUL in text): bad input, not
        our failure. Logged by route only: the statement's parameters are the user's data."""
        db.session.rollback()
        route = request.url_rule.rule if request.url_rule else "?"
        log.warning("database refused a value on %s %s", request.method, route)
        code, message = CODES[422]
        if _wants_json():
            return error_response(422, code, message)
        return _page(422, message)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _page(400, "Страница устарела. Обновите её и отправьте форму ещё раз.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        code, message = CODES.get(status, ("error", error.name))
        if _wants_json():
            body, status = error_response(status, code, message)
            if getattr(error, "valid_methods", None):
                body.headers["Allow"] = ", ".join(error.valid_methods)
            return body, status
        return _page(status, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The route pattern, not the path: paths carry ticket tokens, which never go to logs.
        route = request.url_rule.rule if request.url_rule else "?"
        log.exception("unhandled error on %s %s", request.method, route)
        code, message = CODES[500]
        if _wants_json():
            return error_response(500, code, message)
        return _page(500, message)
