"""Socket.IO sessions are bounded per client and in total, and closed unless they join `/live`."""

from __future__ import annotations

import time

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def test_one_client_gets_a_bounded_number_of_sessions(world, make_app):
    client = make_app(SOCKETIO_MAX_PER_CLIENT=2).test_client()

    statuses = [client.get(HANDSHAKE).status_code for _ in range(3)]
    other = client.get(HANDSHAKE, environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code

    assert statuses == [200, 200, 401]
    assert other == 200


def test_sessions_are_bounded_in_total(world, make_app):
    client = make_app(SOCKETIO_MAX_CONNECTIONS=3).test_client()

    statuses = [
        client.get(HANDSHAKE, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(5)
    ]

    assert statuses == [200, 200, 200, 401, 401]


def test_a_session_that_joins_no_namespace_is_closed_within_the_join_time(world, make_app):
    app = make_app(SOCKETIO_JOIN_SECONDS=0.3)
    client = app.test_client()
    sid = client.get(HANDSHAKE).get_data(as_text=True).split('"sid":"')[1].split('"')[0]
    server = app.extensions["socketio"].server

    assert sid in server.eio.sockets
    deadline = time.monotonic() + 5
    while sid in server.eio.sockets and time.monotonic() < deadline:
        time.sleep(0.05)

    assert sid not in server.eio.sockets
    assert client.get(f"{HANDSHAKE}&sid={sid}").status_code == 400
