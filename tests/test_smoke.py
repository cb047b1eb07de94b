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
