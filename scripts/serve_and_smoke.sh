#!/usr/bin/env bash
# Serve a real Grand Livre process on a free loopback port and run scripts/smoke_tests.sh on it.
#
#   make smoke                       # the usual way: .venv/bin comes first on PATH
#   scripts/serve_and_smoke.sh       # also works from a checkout whose .venv exists
#
# Environment:
#   SMOKE_DATABASE_URL  database to serve from (default: a fresh SQLite file in a temp dir);
#                       the smoke tests leave a smoke-* ledger behind in it
#   SMOKE_WAIT          seconds to wait for the server to come up (default 30)
#
# When the CLI has `grandlivre keys`, an admin API key is created for the run and handed to
# the smoke tests as API_KEY. The server is stopped by its pid whatever happens; on failure the
# tail of its log is printed and the temp dir kept. Exits with the smoke tests' status.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMOKE_WAIT="${SMOKE_WAIT:-30}"

if ! command -v grandlivre >/dev/null 2>&1 && [[ -x "$ROOT/.venv/bin/grandlivre" ]]; then
  PATH="$ROOT/.venv/bin:$PATH"
fi
for tool in grandlivre curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "serve_and_smoke: $tool is not on PATH (run make install)" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/grandlivre-serve-smoke.XXXXXX")"
LOG="$TMP/server.log"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE_URL="http://127.0.0.1:$PORT"
export DATABASE_URL="${SMOKE_DATABASE_URL:-sqlite+aiosqlite:///$TMP/smoke.db}"
# Keep the run's SQLite mirror (used with PostgreSQL) out of the working directory's ./fallback.db.
export FALLBACK_DATABASE_URL="sqlite+aiosqlite:///$TMP/fallback.db"
export LOG_FORMAT=json
export SEED_LEDGER=main   # the smoke tests read ledger main, whatever .env says
SERVER_PID=""
STATUS=1

# shellcheck disable=SC2317  # show_log and cleanup run from the EXIT trap
show_log() {
  echo "--- last 40 lines of the server log ($LOG), long lines cut in the middle ---"
  tail -n 40 "$LOG" 2>/dev/null | awk '{
    if (length($0) > 1500) print substr($0, 1, 300) " [...] " substr($0, length($0) - 1000)
    else print
  }' || true
  echo "--- end of server log ---"
}

# shellcheck disable=SC2317
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "serve_and_smoke: server $SERVER_PID ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if ((STATUS == 0)); then
    rm -rf "$TMP"
  else
    show_log
    echo "serve_and_smoke: kept $TMP for inspection"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "serve_and_smoke: starting grandlivre on $BASE_URL (log: $LOG)"
grandlivre serve --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!

# probe PATH: GET it; the status goes to $CODE (000 when nothing answered) and, described, to $LAST.
CODE=""
LAST="no answer yet"
probe() {
  CODE="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL$1" || true)"
  CODE="${CODE:-000}"
  LAST="GET $1 answered $CODE"
}

# The server is up when /readyz says so; a build without /readyz (404) is up when it serves
# ledger main. 401 counts as up: the API-key layer answers before the route does.
is_up() {
  probe /readyz
  case "$CODE" in
    200 | 401) return 0 ;;
    404) probe /api/v1/ledgers/main && [[ "$CODE" =~ ^(200|401)$ ]] ;;
    *) return 1 ;;
  esac
}

deadline=$((SECONDS + SMOKE_WAIT))
until is_up; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" 2>/dev/null && rc=0 || rc=$?
    SERVER_PID=""
    echo "serve_and_smoke: the server exited (status $rc) before it was up" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "serve_and_smoke: the server was not up after ${SMOKE_WAIT} s (last: $LAST)" >&2
    exit 1
  fi
  sleep 0.3
done
echo "serve_and_smoke: server up (pid $SERVER_PID)"

if grandlivre keys --help >/dev/null 2>&1; then
  if ! key_output="$(grandlivre keys create --name smoke --role admin 2>"$TMP/keys.err")"; then
    echo "serve_and_smoke: grandlivre keys create failed:" >&2
    cat "$TMP/keys.err" >&2
    exit 1
  fi
  API_KEY="$(printf '%s\n' "$key_output" | tail -n 1 | tr -d '[:space:]')"
  if [[ -z "$API_KEY" ]]; then
    echo "serve_and_smoke: grandlivre keys create printed no key" >&2
    exit 1
  fi
  export API_KEY
  echo "serve_and_smoke: created admin API key 'smoke'"
else
  unset API_KEY
fi

set +e
BASE_URL="$BASE_URL" "$ROOT/scripts/smoke_tests.sh"
STATUS=$?
set -e
exit "$STATUS"
