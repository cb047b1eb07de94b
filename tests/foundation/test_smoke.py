from tests.conftest import bearer, login


def test_coordinator_logs_in_and_sees_region_home(client, world):
    email, _ = world.user(world.a)
    world.event(world.a)
    response = login(client, email)
    assert response.status_code == 302
    page = client.get("/yaroslavl/", follow_redirects=True)
    assert page.status_code == 200
    assert "Ярославская область" in page.get_data(as_text=True)


def test_api_lists_municipalities(client, world):
    _, token = world.user(world.a)
    world.municipality(world.a, "г. Рыбинск")
    world.municipality(world.b, "г. Ангарск")
    response = client.get("/api/v1/yaroslavl/municipalities", headers=bearer(token))
    assert response.status_code == 200
    assert [m["name"] for m in response.json] == ["г. Рыбинск"]


def test_ticket_factory_makes_a_verifiable_code(app, world):
    from server.tickets import codes
    from tenants.scoping import tenant_scope

    event_id = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event_id)
    with app.app_context(), tenant_scope(world.a.id):
        payload = codes.verify(code, world.a.id)
    assert payload is not None and payload.object_id == ticket_id and payload.event_id == event_id
