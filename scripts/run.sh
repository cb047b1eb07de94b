#!/usr/bin/env bash
# Install and run Propusk on the embedded default: SQLite, demo data, the web server and the job
# worker (mail, reminders) beside it; Ctrl+C stops both.
#   bash scripts/run.sh            → http://127.0.0.1:5000
#   PORT=8080 bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
HOST="${HOST:-127.0.0.1}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

mkdir -p instance
if [ -z "${SECRET_KEY:-}" ]; then
  # A key generated once per machine and kept in instance/: sessions survive restarts.
  [ -s instance/secret_key ] || .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(48))" > instance/secret_key
  SECRET_KEY="$(cat instance/secret_key)"
  export SECRET_KEY
fi

export PUBLIC_URL="${PUBLIC_URL:-http://${HOST}:${PORT}}"  # links in mail the worker writes

.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi demo --url "http://${HOST}:${PORT}"
echo
echo "Propusk: откройте http://${HOST}:${PORT}/login  (Ctrl+C — остановить)"
# The worker sends mail and runs the periodic jobs (SQLite queue in instance/huey.sqlite).
.venv/bin/flask --app wsgi worker &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null; wait "$WORKER" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
.venv/bin/gunicorn wsgi:app --bind "${HOST}:${PORT}"
