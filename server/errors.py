"""Domain errors with stable codes: the API turns them into the SPEC's JSON, pages into Russian text."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a person should understand. `code` is stable (API), `message` is for people."""

    status = 400
    code = "bad_request"
    message = "Некорректный запрос."

    def __init__(self, message: str | None = None, *, code: str | None = None, **details) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        super().__init__(self.message)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "Не найдено."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "Недостаточно прав."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "Конфликт с текущим состоянием."


class Invalid(DomainError):
    status = 422
    code = "invalid"
    message = "Данные заполнены неверно."
