"""REQUEST_CONCURRENCY: ordinary requests beyond the bound wait their turn, none is refused, and a
dashboard's Socket.IO requests never wait behind them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor


def _app_with_a_slow_page(make_app, limit: int):
    """An app bounded to `limit`, with a page that holds its slot until `release` is set."""
    app = make_app(REQUEST_CONCURRENCY=limit)
    state = {"running": 0, "most": 0}
    lock, release = threading.Lock(), threading.Event()

    def slow():
        with lock:
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
        release.wait(10)
        with lock:
            state["running"] -= 1
        return "готово"

    app.add_url_rule("/_slow", "slow", slow)
    return app, state, release


def _wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_requests_beyond_the_bound_wait_their_turn_and_every_one_is_answered(make_app):
    app, state, release = _app_with_a_slow_page(make_app, limit=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = [pool.submit(lambda: app.test_client().get("/_slow")) for _ in range(6)]
        assert _wait_until(lambda: state["running"] == 2)
        time.sleep(0.2)  # four more are waiting: none of them may start
        assert state["running"] == 2 and not any(a.done() for a in answers)
        release.set()
        statuses = [a.result(timeout=10).status_code for a in answers]
    assert statuses == [200] * 6 and state["most"] == 2


def test_a_dashboard_connects_while_every_slot_is_busy(make_app):
    app, state, release = _app_with_a_slow_page(make_app, limit=1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        busy = pool.submit(lambda: app.test_client().get("/_slow"))
        assert _wait_until(lambda: state["running"] == 1)
        handshake = pool.submit(lambda: app.test_client().get("/socket.io/?EIO=4&transport=polling"))
        try:
            opened = handshake.result(timeout=5)  # Engine.IO's open packet, not a wait for the slot
        finally:
            release.set()
        assert opened.status_code == 200 and opened.get_data(as_text=True).startswith("0{")
        assert busy.result(timeout=10).status_code == 200


def test_a_freed_slot_goes_to_the_request_that_waited_longest_not_to_a_newcomer():
    from server.concurrency import FairSlots

    slots, served = FairSlots(1), []

    def request(name: str) -> None:
        with slots:
            served.append(name)

    slots.__enter__()  # a long request holds the only slot
    waiting = threading.Thread(target=request, args=("waited",))
    waiting.start()
    assert _wait_until(lambda: len(slots._waiting) == 1)
    slots.__exit__(None, None, None)  # its slot is handed over...
    newcomer = threading.Thread(target=request, args=("newcomer",))
    newcomer.start()  # ...so a request arriving now cannot take it first
    waiting.join(5)
    newcomer.join(5)
    assert served == ["waited", "newcomer"]
