#!/usr/bin/env bash
# Install everything the tests need and run the whole suite.
#   bash scripts/test.sh                        → SQLite
#   DATABASE_URL=postgresql://postgres@127.0.0.1/test REDIS_URL=redis://127.0.0.1:6379/0 bash scripts/test.sh
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if { [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null; } && command -v apt-get >/dev/null \
  && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian chromium (browser tests) and poppler-utils (PDFs rendered by the crawl)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null) \
    || echo "chromium could not be installed: browser tests will be skipped"
fi

.venv/bin/ruff check server tenants kiosk tests bench wsgi.py gunicorn.conf.py
.venv/bin/lint-imports                   # dependencies point one way (.importlinter)
.venv/bin/mypy                           # server/ and tenants/ (mypy.ini)
bash scripts/vendor_static.sh --check
exec .venv/bin/python -m pytest "$@"
