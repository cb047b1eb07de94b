"""Shared steps of the kiosk tests: a coordinator creates a kiosk, a device pairs it."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import bearer


@dataclass
class PairedKiosk:
    id: int
    token: str
    venue_id: int
    slug: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def create_kiosk(client, world, region, venue_id: int, name: str = "Главный вход") -> dict:
    _, coordinator_token = world.user(region)
    response = client.post(
        f"/api/v1/{region.slug}/kiosks",
        json={"venue_id": venue_id, "name": name},
        headers=bearer(coordinator_token),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def paired_kiosk(client, world, region, venue_id: int, name: str = "Главный вход") -> PairedKiosk:
    created = create_kiosk(client, world, region, venue_id, name)
    response = client.post("/api/v1/kiosk/pair", json={"pairing_code": created["pairing_code"]})
    assert response.status_code == 200, response.get_json()
    return PairedKiosk(created["id"], response.get_json()["token"], venue_id, region.slug)


def scan(client, kiosk: PairedKiosk, code: str, scan_id: str | None = None) -> dict:
    body = {"code": code} if scan_id is None else {"code": code, "scan_id": scan_id}
    response = client.post(f"/api/v1/{kiosk.slug}/checkins", json=body, headers=kiosk.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()
