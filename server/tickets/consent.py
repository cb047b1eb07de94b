"""The consent text a guardian ticks, versioned: a registration records the version it was shown.

The text names the region's personal-data operator (152-ФЗ art. 9 asks for its name and address), as
the coordinator set it on the region's settings page; until then it names the operator's role.
"""

from __future__ import annotations

from flask_babel import gettext as _

CONSENT_VERSION = "2026-09"

PAPER_GUARDIAN = "Согласие собрано школой на бумаге"


def operator_words(name: str | None, address: str | None) -> str:
    """«ГАУ ДПО ЯО «ЦОПП» (г. Ярославль, ул. …)», or the role when the region has not named one."""
    if not name:
        return _("оператору регионального этапа профориентационных мероприятий")
    return f"{name} ({address})" if address else name


def consent_text(name: str | None = None, address: str | None = None) -> str:
    return _(
        "Я, родитель (законный представитель) ученика, даю согласие оператору персональных данных — "
        "%(operator)s — на обработку персональных данных ребёнка (фамилия, имя, отчество, школа, класс) "
        "и моих контактных данных для записи на мероприятие, выдачи билета и учёта посещения, в "
        "соответствии с Федеральным законом от 27.07.2006 № 152-ФЗ «О персональных данных». Согласие "
        "действует до конца текущего учебного года и может быть отозвано письменным заявлением "
        "оператору; отмена билета на странице билета прекращает запись.",
        operator=operator_words(name, address),
    )
