"""In headless Chromium: a coordinator invites a teacher, who sets a password from the letter's link
and signs in for the first time; the platform admin's pages and the people pages as people see them.

Screenshots: <SHOTS>/accounts-*.png (docs/screenshots with UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from tests.accounts.helpers import LINK, letters
from tests.browser import needs_chromium, shot, sign_in

pytestmark = needs_chromium
PASSWORD = "синий-трамвай-бежит-7"


def test_invite_set_password_first_login(app, world, live_server, browser):
    municipality = world.municipality(world.a, "г. Рыбинск")
    world.school(world.a, municipality, "Средняя школа № 30")
    coordinator_email, _ = world.user(world.a)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, coordinator_email)
    page.click("nav >> text=Пользователи")
    page.select_option("select[name=role]", "municipal")
    assert page.is_visible("select[name=municipality_id]") and page.is_hidden("select[name=school_id]")
    page.select_option("select[name=role]", "school")
    assert page.is_visible("select[name=school_id]") and page.is_hidden("select[name=municipality_id]")
    page.fill("input[name=email]", "teacher@example.ru")
    page.select_option("select[name=school_id]", label="Средняя школа № 30 (г. Рыбинск)")
    page.click("form button[type=submit]:has-text('Отправить приглашение')")
    page.wait_for_selector("text=Приглашение отправлено на teacher@example.ru")
    shot(page, "accounts-people")
    assert "приглашён" in page.inner_text("table.people")

    (letter,) = letters(app, "teacher@example.ru")
    link = LINK.search(letter.body_text).group(0)
    assert link.startswith(live_server)

    teacher = browser.new_context().new_page()
    teacher.goto(link)
    teacher.fill("input[name=full_name]", "Петрова Анна Сергеевна")
    teacher.fill("input[name=password]", PASSWORD)
    teacher.fill("input[name=confirm]", PASSWORD)
    shot(teacher, "accounts-accept-invitation")
    teacher.click("form button[type=submit]")
    teacher.wait_for_selector("text=Добро пожаловать! Пароль задан, вы вошли.")
    assert teacher.url.rstrip("/").endswith("/yaroslavl")
    assert "Петрова Анна Сергеевна" in teacher.inner_text("header")

    teacher.click("header button:has-text('Выйти')")
    teacher.wait_for_selector("text=Вы вышли из системы.")
    teacher.goto(link)
    assert "Ссылка недействительна" in teacher.inner_text("main")  # works once
    teacher.goto(f"{live_server}/login")
    teacher.fill("input[name=email]", "teacher@example.ru")
    teacher.fill("input[name=password]", PASSWORD)
    teacher.click("form button[type=submit]")
    teacher.wait_for_url(f"{live_server}/yaroslavl/")
    assert teacher.url.rstrip("/").endswith("/yaroslavl")
    assert "Запись учеников" in teacher.inner_text("nav") and "Пользователи" not in teacher.inner_text("nav")

    page.reload()
    assert "активен" in page.inner_text("table.people") and "Петрова Анна Сергеевна" in page.inner_text(
        "table.people"
    )
    assert errors == []


def test_platform_admin_creates_and_suspends_a_region(app, world, live_server, browser):
    email, _ = world.user(None, None)
    with app.app_context():
        from server.accounts.models import User

        db.session.scalar(select(User).where(User.email == email)).is_platform_admin = True
        db.session.commit()
    world.event(world.a)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server, email)
    page.click("header >> text=Администрирование")
    shot(page, "accounts-admin-regions")
    page.click("text=Создать регион")
    page.select_option("select[name=slug]", "tomsk")
    assert page.input_value("input[name=name]") == "Томская область"  # filled from the registry
    assert page.input_value("select[name=timezone]") == "Asia/Tomsk"  # shown as «Томск (МСК+4)»
    assert page.inner_text("select[name=timezone] option:checked") == "Томск (МСК+4)"
    page.fill("textarea[name=coordinators]", "copp@tomsk.example.ru")
    shot(page, "accounts-admin-new-region")
    page.click("form button[type=submit]")
    page.wait_for_selector("text=Регион «Томская область» создан.")
    assert "copp@tomsk.example.ru" in page.inner_text("main")

    page.goto(f"{live_server}/admin/regions/{world.a.id}")
    page.click("text=Приостановить регион…")
    shot(page, "accounts-admin-suspend")
    page.click("form button[type=submit]:has-text('Приостановить')")
    page.wait_for_selector("text=Работа региона «Ярославская область» приостановлена.")
    page.goto(f"{live_server}/yaroslavl/")
    assert "приостановлена администратором платформы" in page.inner_text("main")
    shot(page, "accounts-region-suspended")


def test_coordinator_onboards_schools_from_a_file_and_manages_tokens(
    app, world, live_server, browser, tmp_path
):
    from tests.accounts.test_onboarding import CSV

    coordinator_email, _ = world.user(world.a)
    upload = tmp_path / "schools.csv"
    upload.write_bytes(CSV.encode())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server, coordinator_email)
    page.goto(f"{live_server}/yaroslavl/people")
    page.click("text=Загрузить школы из файла")
    page.set_input_files("input[name=file]", str(upload))
    page.click("form button:has-text('Проверить файл')")
    page.wait_for_selector("table.preview")
    shot(page, "accounts-onboarding-preview")
    page.click("form button:has-text('Загрузить 3')")
    page.wait_for_selector("text=Приглашений отправлено:")
    assert page.inner_text(".created") == "3" and page.inner_text(".invited") == "2"

    page.click("header a.who")
    page.fill("input[name=name]", "Выгрузка в АИС")
    page.click("form.token-form button")
    page.wait_for_selector("code.new-token")
    shot(page, "accounts-profile")
    assert page.inner_text("code.new-token").startswith("pk_")
    page.click("table.tokens button:has-text('Отозвать')")
    page.wait_for_selector("text=Токен «Выгрузка в АИС» отозван.")
    assert "отозван" in page.inner_text("table.tokens")
