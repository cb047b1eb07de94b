"""`flask demo`: a believable region from the seed letters, plus a second one to show isolation.

Ярославская область: the four «Профессионалитет» clusters named in the open-day letter, its towns and
districts, schools, colleges as venues, open-day sessions running today (so a kiosk can scan at once)
and a week of professional trials. Иркутская область (UTC+8) sits beside it with its own data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from server.accounts.models import ROLE_LABELS, Role
from server.accounts.services import create_user, find_user
from server.catalog import services as catalog
from server.catalog.models import Municipality, School
from server.database import unit_of_work, utcnow
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import tenant_scope
from tenants.services import create_tenant

DEMO_PASSWORD = "propusk-demo-2026"
PLATFORM_ADMIN = "admin@propusk.demo"

YAROSLAVL = {
    "municipalities": {
        "г. Ярославль": ["Средняя школа № 33", "Средняя школа № 80", "Гимназия № 2", "Лицей № 86"],
        "г. Рыбинск": ["Средняя школа № 1", "Лицей № 2", "Средняя школа № 30"],
        "г. Переславль-Залесский": ["Средняя школа № 4", "Гимназия г. Переславля-Залесского"],
        "Ростовский муниципальный район": ["Ростовская средняя школа № 3", "Петровская средняя школа"],
        "Угличский муниципальный район": ["Средняя школа № 5 г. Углича", "Отрадновская средняя школа"],
        "Тутаевский муниципальный район": ["Средняя школа № 6 г. Тутаева"],
    },
    # (name, address, cluster)
    "venues": [
        ("Ярославский колледж промышленных технологий и транспорта", "г. Ярославль, ул. Гагарина, 8",
         "Железнодорожный транспорт"),
        ("Ярославский промышленно-экономический колледж им. Н. П. Пастухова",
         "г. Ярославль, пр-т Ленина, 9", "Биофармацевтическое производство"),
        ("Рыбинский авиационный колледж", "г. Рыбинск, ул. Плеханова, 31", "Машиностроение"),
        ("Ярославский педагогический колледж", "г. Ярославль, ул. Маланова, 14", "Педагогика"),
        ("Ростовский педагогический колледж", "г. Ростов, ул. Окружная, 1", "Педагогика"),
    ],
    "trials": [
        "Помощник машиниста локомотива", "Лаборант химического анализа", "Оператор станков с ЧПУ",
        "Вожатый детского лагеря", "Технолог фармацевтического производства",
        "Слесарь-сборщик авиадвигателей",
    ],
}  # fmt: skip

IRKUTSK = {
    "municipalities": {
        "г. Иркутск": ["Средняя школа № 19", "Лицей № 36"],
        "г. Ангарск": ["Средняя школа № 10"],
    },
    "venues": [
        ("Иркутский техникум авиастроения и материалообработки", "г. Иркутск, ул. Рабочего Штаба, 1",
         "Авиастроение"),
        ("Ангарский политехнический техникум", "г. Ангарск, 12 микрорайон, 1", None),
    ],
    "trials": ["Оператор беспилотных систем", "Сварщик", "Медицинская сестра"],
}  # fmt: skip


def _local(tenant: Tenant, day_offset: int, hour: int) -> datetime:
    """A wall-clock time in the region, `day_offset` days from today."""
    today = utcnow().astimezone(tenant.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=day_offset, hours=hour)


def _build(slug: str, data: dict, prefix: str) -> None:
    tenant = create_tenant(slug)
    with tenant_scope(tenant):
        municipalities: dict[str, Municipality] = {}
        schools: list[School] = []
        for name, school_names in data["municipalities"].items():
            municipalities[name] = catalog.create_municipality(name)
            for school_name in school_names:
                schools.append(catalog.create_school(school_name, municipalities[name].id))
        venues = [catalog.save_venue(None, name=n, address=a, cluster=c) for n, a, c in data["venues"]]

        # Open day: sessions running now at every venue, so the kiosk demo admits at once.
        now_local = utcnow().astimezone(tenant.tz)
        start = now_local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        first_two = list(municipalities.values())[:2]
        for venue in venues:
            catalog.save_event(
                None,
                catalog.EventInput(
                    title=f"День открытых дверей: {venue.cluster or venue.name}",
                    programme="open_day",
                    format="in_person",
                    venue_id=venue.id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=5),
                    capacity=120,
                    grade_min=8,
                    grade_max=11,
                    quotas=[(m.id, 30) for m in first_two],
                ),
                tenant.tz,
            )
        # A week of trials, in person and online, grades 6–11.
        for day, title in enumerate(data["trials"], start=1):
            venue = venues[day % len(venues)]
            online = day % 3 == 0
            catalog.save_event(
                None,
                catalog.EventInput(
                    title=f"Профпроба «{title}»",
                    programme="trial",
                    format="online" if online else "in_person",
                    venue_id=venue.id,
                    starts_at=_local(tenant, day, 11),
                    ends_at=_local(tenant, day, 13),
                    capacity=25,
                    grade_min=6,
                    grade_max=11,
                    broadcast_url="https://bvbinfo.ru/" if online else None,
                ),
                tenant.tz,
            )
        first_municipality = next(iter(municipalities.values()))
        people = [
            (f"coordinator@{prefix}.demo", Role.COORDINATOR, {}),
            (f"municipal@{prefix}.demo", Role.MUNICIPAL, {"municipality_id": first_municipality.id}),
            (f"school@{prefix}.demo", Role.SCHOOL, {"school_id": schools[0].id}),
            (f"venue@{prefix}.demo", Role.VENUE, {"venue_id": venues[0].id}),
        ]
        for email, role, scope in people:
            create_user(email, password=DEMO_PASSWORD, tenant=tenant, role=role, **scope)
        # A kiosk at the first venue, waiting for its tablet (its code is renewed on the kiosks page).
        from server.checkins.kiosks import create_kiosk

        create_kiosk(venues[0].id, "Главный вход")
        db.session.flush()  # its audit entry, while the region is in scope
        if slug == "yaroslavl":
            _register_students(tenant, schools)


# (last name, first name, middle name, grade): students of the Yaroslavl schools with tickets.
STUDENTS = [
    ("Смирнова", "Алёна", "Игоревна", 9),
    ("Кузнецов", "Артём", "Сергеевич", 10),
    ("Попова", "Дарья", "Андреевна", 8),
    ("Васильев", "Максим", "Олегович", 11),
    ("Соколова", "Полина", "Дмитриевна", 9),
    ("Михайлов", "Егор", "Александрович", 10),
    ("Новикова", "Виктория", "Павловна", 8),
    ("Фёдоров", "Иван", "Николаевич", 11),
    ("Морозова", "Ксения", "Викторовна", 9),
    ("Волков", "Никита", "Романович", 10),
    ("Алексеева", "Софья", "Евгеньевна", 9),
    ("Лебедев", "Тимофей", "Ильич", 8),
]
CLASS_8A = [
    ("Белова", "Анна", "Сергеевна"), ("Григорьев", "Матвей", "Андреевич"), ("Ершова", "Варвара", "Олеговна"),
    ("Жуков", "Лев", "Денисович"), ("Зайцева", "Милана", "Артёмовна"), ("Козлов", "Даниил", "Игоревич"),
    ("Орлова", "Ева", "Максимовна"), ("Павлов", "Роман", "Витальевич"),
]  # fmt: skip


def _register_students(tenant: Tenant, schools: list[School]) -> None:
    """Tickets for today's open day (one by a parent online, a class by its school) and a trial or two."""
    from server.catalog.models import Event, Programme, ProgrammeKind
    from server.tickets import importing
    from server.tickets import services as tickets

    open_day = list(
        db.session.scalars(
            select(Event)
            .join(Programme, Programme.id == Event.programme_id)
            .where(Programme.kind == ProgrammeKind.OPEN_DAY)
            .order_by(Event.id)
        )
    )
    trials = list(
        db.session.scalars(
            select(Event)
            .join(Programme, Programme.id == Event.programme_id)
            .where(Programme.kind == ProgrammeKind.TRIAL)
            .order_by(Event.starts_at)
        )
    )
    for n, (last, first, middle, grade) in enumerate(STUDENTS):
        school = schools[n % 4]  # the Ярославль schools come first
        event = open_day[n % 2]
        data = tickets.Registration(
            student=tickets.StudentInput(last, first, grade, school.id, middle),
            guardian_name=f"{last if last.endswith('а') else last + 'а'} Елена Викторовна",
            guardian_phone=f"+7 915 {100 + n:03d}-{20 + n:02d}-{30 + n:02d}",
            consent=True,
        )
        tickets.register(event, data, tenant.tz)
        if n < 3:
            tickets.register(trials[n], data, tenant.tz)
    rows = [
        importing.Row(
            line=i + 2,
            last_name=last,
            first_name=first,
            middle_name=middle,
            class_label="8А",
            guardian=f"{last if last.endswith('а') else last + 'а'} Ольга Сергеевна",
        )
        for i, (last, first, middle) in enumerate(CLASS_8A)
    ]
    importing.register_class(
        open_day[0].id,
        schools[0].id,
        rows,
        consent_date=utcnow().astimezone(tenant.tz).date(),
        escort_name="Петрова Анна Сергеевна",
        tz=tenant.tz,
    )


def build_demo() -> dict[str, dict[str, str]]:
    """Create both demo regions (once) and return their logins."""
    result = {}
    with unit_of_work():
        for slug, data, prefix in (("yaroslavl", YAROSLAVL, "yaroslavl"), ("irkutsk", IRKUTSK, "irkutsk")):
            if db.session.scalar(select(Tenant).where(Tenant.slug == slug)) is None:
                _build(slug, data, prefix)
            result[slug] = {f"{role.value}@{prefix}.demo": str(ROLE_LABELS[role]) for role in Role}
        if find_user(PLATFORM_ADMIN) is None:
            create_user(PLATFORM_ADMIN, password=DEMO_PASSWORD, platform_admin=True)
    return result


@click.command("demo")
@with_appcontext
@click.option("--url", default="http://127.0.0.1:5000", help="Адрес, который напечатать.")
def demo_command(url: str) -> None:
    """Demo regions with real-looking data; prints the logins."""
    regions = build_demo()
    click.echo(f"Демо готово. Откройте {url}/login")
    click.echo(f"Пароль для всех демо-пользователей: {DEMO_PASSWORD}")
    click.echo(f"  {PLATFORM_ADMIN:34} Администратор платформы")
    for slug, people in regions.items():
        click.echo(f"  {url}/{slug}/")
        for email, role in people.items():
            click.echo(f"    {email:32} {role}")
    token = _sample_ticket("yaroslavl")
    if token:
        click.echo(f"Билет для проверки (страница без входа): {url}/yaroslavl/t/{token}")
        click.echo(f"Запись на события (для родителей): {url}/yaroslavl/events/open")


def _sample_ticket(slug: str) -> str | None:
    from server.tickets.models import Ticket, TicketStatus

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    with tenant_scope(tenant):
        return db.session.scalar(
            select(Ticket.access_token)
            .where(Ticket.status == TicketStatus.ACTIVE)
            .order_by(Ticket.id)
            .limit(1)
        )
