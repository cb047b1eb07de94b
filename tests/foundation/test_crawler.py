"""The crawler itself: a route added later is filled with real ids without anyone naming it, and what it
reports as English, broken downloads or unknown parameters is what a user would meet."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from werkzeug.routing import Map, Rule

from tests.crawl import Ids, check_disposition, english_on_page, parse_ics, read_page, route_urls


def test_a_new_get_route_is_crawled_with_real_ids_and_an_unknown_parameter_is_named(app, world):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue)
    group, _, _ = world.class_group(world.a, event)
    world.venue(world.b)  # another region's: never offered
    url_map = Map([
        Rule("/<tenant>/venues/<int:object_id>/report", endpoint="new_page"),
        Rule("/<tenant>/kiosk/groups/<int:group_id>", endpoint="group"),
        Rule("/<tenant>/things/<int:thing_id>", endpoint="unknown"),
        Rule("/<tenant>/post-only", endpoint="post", methods=["POST"]),
    ])  # fmt: skip
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    urls, unfilled = route_urls(url_map, Ids(engine, world.a.id, "yaroslavl"))
    engine.dispose()
    assert sorted(urls) == sorted([f"/yaroslavl/venues/{venue}/report", f"/yaroslavl/kiosk/groups/{group}"])
    assert unfilled == ["/<tenant>/things/<int:thing_id>: which table has <thing_id>? Name it in Ids.extra"]


def test_english_is_found_in_what_people_read_but_not_in_data_codes_or_scripts():
    page = read_page(
        '<html lang="ru"><title>Билеты</title><script>var x = "Submit";</script>'
        "<p>Field required · PDF · ABCD-1234 · https://vk.com/video · coordinator@yaroslavl.demo</p>"
        '<input type="submit" value="Save"><img alt="QR-код"><p>Колледж Tech Park</p></html>'
    )
    assert english_on_page(page, data={"Колледж Tech Park"}) == ["Field", "required", "Save"]


def test_a_code_sample_is_typed_as_shown_but_the_words_around_it_are_read():
    page = read_page(
        '<html lang="ru"><p>Заголовок <code>Authorization: Bearer …</code>, токен показан один раз.</p>'
        "<pre>curl -H 'Authorization: Bearer' https://propusk.example/api</pre><p>Token shown once</p></html>"
    )
    assert english_on_page(page) == ["Token", "shown", "once"]


def test_a_download_name_must_be_ascii_with_the_real_name_beside_it():
    assert check_disposition('inline; filename="class-8А.pdf"') is not None
    assert check_disposition("attachment; filename=\"Klass 8A.pdf\"; filename*=UTF-8''%D0%9A.pdf") is None


def test_a_calendar_file_must_parse():
    good = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20261203T100000Z\r\nSUMMARY:Проба\r\n"
        " «Сварщик»\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert parse_ics(good)[0]["SUMMARY"] == "Проба«Сварщик»"
    with pytest.raises(ValueError):
        parse_ics(good.replace("END:VEVENT\r\n", ""))
    with pytest.raises(ValueError):
        parse_ics(good.replace("\r\n", "\n"))
