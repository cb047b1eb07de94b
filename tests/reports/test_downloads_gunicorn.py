"""Downloads proven through the production server: file names (RFC 6266/5987), BOM and `;`, XLSX."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import unquote

import pytest
import requests
from openpyxl import load_workbook

from tests.conftest import PASSWORD, _free_port
from tests.production import start_gunicorn
from tests.reports.helpers import build, users


def _signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                          timeout=10, allow_redirects=False)  # fmt: skip
    assert answer.status_code == 302
    return session


@pytest.mark.slow
def test_exports_through_gunicorn(app, world, database_url):
    town = build(world)
    email = users(world, town)["coordinator"]
    port = _free_port()
    process = start_gunicorn(database_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):  # a loaded CI machine takes a while to import the app
            try:
                requests.get(f"{base}/login", timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        session = _signed_in(base, email)
        csv = session.get(f"{base}/yaroslavl/reports/participants.csv", timeout=30)
        assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert csv.content.startswith(b"\xef\xbb\xbf")
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("ФИО;Класс;Школа;Муниципалитет;") and len(lines) == 1 + 7 + 1
        disposition = csv.headers["Content-Disposition"]
        fallback = re.search(r'filename="([^"]+)"', disposition).group(1)
        assert fallback.isascii() and fallback.startswith("Uchastniki ") and fallback.endswith(".csv")
        assert unquote(disposition.split("filename*=UTF-8''", 1)[1]).startswith("Участники ")

        xlsx = session.get(f"{base}/yaroslavl/reports/attendance.xlsx", timeout=30)
        assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "filename*=UTF-8''%D0%A1%D0%B2%D0%BE%D0%B4%D0%BA%D0%B0" in xlsx.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(xlsx.content))
        sheet = book["Муниципалитеты и школы"]
        assert sheet.freeze_panes == "A2" and sheet["A1"].value == "Уровень"
        assert [c.value for c in sheet[sheet.max_row]][:7] == ["Итого", None, None, None, 20, 4, 6]
    finally:
        process.terminate()
        process.wait(timeout=10)
