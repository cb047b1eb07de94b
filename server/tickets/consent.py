"""The consent texts a guardian agrees to, versioned: a consent records the version it was given under.

Every version ever shown stays here unchanged (a test holds the old ones to their words), so a consent
is shown as it was when given. A new wording is a new version; `CONSENT_VERSION` is the current one.
The region's operator is named in the text: a consent keeps the operator's name as it was then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _


def N_(text: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Marks a text for the translation catalogue without translating it here (a record keeps Russian)."""
    return text


CONSENT_TEXTS: dict[str, str] = {
    "2026-09": (
        "Я, родитель (законный представитель) ученика, даю согласие оператору регионального этапа "
        "профориентационных мероприятий на обработку персональных данных ребёнка (фамилия, имя, "
        "отчество, школа, класс) и моих контактных данных для записи на мероприятие, выдачи билета и "
        "учёта посещения, в соответствии с Федеральным законом от 27.07.2006 № 152-ФЗ «О персональных "
        "данных». Согласие действует до конца текущего учебного года и может быть отозвано письменным "
        "заявлением; отмена билета на странице билета прекращает запись."
    ),
    "2026-12": N_(
        "Я, родитель (законный представитель) несовершеннолетнего ученика, в соответствии со статьёй 9 "
        "Федерального закона от 27.07.2006 № 152-ФЗ «О персональных данных» даю согласие оператору — "
        "{operator} — на обработку персональных данных ребёнка (фамилия, имя, отчество, школа, класс) "
        "и моих персональных данных (фамилия, имя, отчество, телефон, адрес электронной почты).\n"
        "Цель обработки: запись ребёнка на профориентационное мероприятие, выдача билета, учёт посещения "
        "и связь со мной по поводу записи.\n"
        "Действия с данными: сбор, запись, систематизация, хранение, уточнение, использование, передача "
        "площадке проведения мероприятия (только фамилия и инициалы, класс и школа ребёнка), "
        "обезличивание, удаление — с использованием средств автоматизации. Данные хранятся на "
        "серверах, расположенных в Российской Федерации.\n"
        "Срок действия: до окончания текущего учебного года (31 августа). Данные удаляются после его "
        "окончания; обезличенное число участников сохраняется для отчётности.\n"
        "Я могу отозвать согласие в любой момент: на странице билета (кнопка «Отозвать согласие») или "
        "письменным заявлением оператору. После отзыва записи ребёнка отменяются, а его и мои данные "
        "удаляются."
    ),
}
CONSENT_VERSION = "2026-12"

# What the form and the text say when the region has not named its operator yet.
DEFAULT_OPERATOR = N_("региональный оператор профориентационных мероприятий ({region})")

PAPER_GUARDIAN_REQUIRED = "Укажите ФИО родителя (законного представителя), подписавшего согласие."


def operator_words(name: str | None, address: str | None) -> str | None:
    """«ГАУ ДПО ЯО «ЦОПП» (г. Ярославль, ул. …)», or None when the region has not named one."""
    if not name:
        return None
    return f"{name} ({address})" if address else name


def consent_text(name: str | None, address: str | None, region: str) -> str:
    """The current text as the registration page shows it, in the reader's language."""
    operator = operator_words(name, address) or _(DEFAULT_OPERATOR).format(region=region)
    return _(CONSENT_TEXTS[CONSENT_VERSION]).replace("{operator}", operator)


def text_of(version: str, operator: str | None = None, region: str = "") -> str:
    """The text of `version` exactly as the guardian saw it, the operator named as it was then."""
    text = CONSENT_TEXTS.get(version)
    if text is None:
        return ""
    return text.replace("{operator}", operator or DEFAULT_OPERATOR.format(region=region))


@dataclass(frozen=True)
class Operator:
    """The region's operator of personal data, as the consent text and the paper form name it."""

    name: str | None
    address: str | None
    contact: str | None


_operators: dict[int, tuple[float, Operator]] = {}


def operator_of(tenant_id: int) -> Operator:
    """The region's operator (`Tenant.operator_name/_address/_contact` where the region has them).

    Read on every registration (the consent keeps the name), so a process keeps it for
    `TENANT_CACHE_SECONDS`, like the region itself.
    """
    from server.extensions import db
    from tenants.models import Tenant

    ttl = current_app.config.get("TENANT_CACHE_SECONDS", 30)
    now = time.monotonic()
    cached = _operators.get(tenant_id)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    tenant = db.session.get(Tenant, tenant_id)
    operator = Operator(
        *(
            (getattr(tenant, f"operator_{part}", None) or None) if tenant is not None else None
            for part in ("name", "address", "contact")
        )
    )
    if ttl > 0:
        _operators[tenant_id] = (now, operator)
    return operator
