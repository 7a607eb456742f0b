#!/usr/bin/env bash
# Smoke tests: exercise the core HTTP surface of a running Grand Livre server.
#
#   BASE_URL=http://127.0.0.1:8000 scripts/smoke_tests.sh
#
# Environment:
#   BASE_URL       server to test (default http://127.0.0.1:8000)
#   API_KEY        when set, sent as `Authorization: Bearer $API_KEY` on every /api/v1 request
#   SMOKE_TIMEOUT  seconds one request may take (default 15)
#
# Reads the seeded ledger `main`, then creates a throwaway ledger (smoke-<epoch>-<random>) and
# does every write in it, so it can run against any server, shared or not; the ledger stays
# behind, as the API has no way to delete a ledger. Prints one PASS/FAIL line per check and a
# summary line; exits 0 when every check passed, 1 when one failed, 2 when the server cannot be
# reached. Needs curl and python3 only.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
BASE_URL="${BASE_URL%/}"
API_KEY="${API_KEY:-}"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-15}"

for tool in curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "smoke: $tool is needed and not on PATH" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/grandlivre-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
HEADERS="$WORK/headers"
BODY="$WORK/body"

PASSED=0
FAILED=0
RESPONSES=0            # responses received
MISSING_REQUEST_ID=()  # "METHOD PATH" of responses without X-Request-ID
STATUS=""              # status code of the last response

pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }

# summary: print the closing line and exit with the outcome.
summary() {
  printf 'smoke: %d passed, %d failed\n' "$PASSED" "$FAILED"
  if ((FAILED > 0)); then exit 1; fi
  exit 0
}

# req METHOD PATH [JSON_BODY] [CURL_ARGS...]: send one request; the status goes to $STATUS,
# the headers to $HEADERS and the body to $BODY.
req() {
  local method="$1" path="$2" body="${3:-}"
  if (($# >= 3)); then shift 3; else shift $#; fi
  local args=(-sS -X "$method" -o "$BODY" -D "$HEADERS" -w '%{http_code}'
              --connect-timeout 5 --max-time "$SMOKE_TIMEOUT")
  if [[ -n "$API_KEY" && "$path" == /api/v1/* ]]; then
    args+=(-H "Authorization: Bearer $API_KEY")
  fi
  if [[ -n "$body" ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  : >"$HEADERS"
  : >"$BODY"
  if ! STATUS="$(curl "${args[@]}" "$@" "$BASE_URL$path")"; then
    STATUS="000"
    return 0
  fi
  RESPONSES=$((RESPONSES + 1))
  if [[ -z "$(header X-Request-ID)" ]]; then
    MISSING_REQUEST_ID+=("$method $path")
  fi
}

# header NAME: the value of a header of the last response (empty when absent).
header() {
  awk -v name="$1" 'BEGIN { name = tolower(name) ":" }
    { sub(/\r$/, "") }
    tolower(substr($0, 1, length(name))) == name { v = substr($0, length(name) + 1); sub(/^[ \t]+/, "", v) }
    END { printf "%s", v }' "$HEADERS"
}

# js EXPR: evaluate a Python expression over the last JSON body, bound to `d`. Strings print
# raw, None as null, booleans as true/false, anything else as JSON; a failure prints <...>.
js() {
  python3 - "$BODY" "$1" <<'PY' 2>/dev/null || printf '<not json or no such field>'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
    v = eval(sys.argv[2], {"d": d})  # the expressions are this script's own literals
except Exception as exc:
    sys.stdout.write(f"<{type(exc).__name__}: {exc}>")
    sys.exit(0)
if isinstance(v, str):
    sys.stdout.write(v)
elif v is None:
    sys.stdout.write("null")
elif isinstance(v, bool):
    sys.stdout.write("true" if v else "false")
else:
    sys.stdout.write(json.dumps(v, sort_keys=True))
PY
}

# brief: the start of the last body, for failure messages.
brief() { head -c 300 "$BODY" | tr -s ' \n\t' ' '; }

# expect NAME ACTUAL EXPECTED: one check comparing two strings.
expect() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "expected '$3', got '$2'"; fi
}

# expect_status NAME CODE: one check on the status of the last response.
expect_status() {
  if [[ "$STATUS" == "$2" ]]; then
    pass "$1"
  else
    fail "$1" "expected HTTP $2, got $STATUS: $(brief)"
  fi
}

# expect_problem NAME CODE TYPE: the last response is an RFC 9457 problem of that type.
expect_problem() {
  local ctype
  ctype="$(header Content-Type)"
  if [[ "$STATUS" != "$2" ]]; then
    fail "$1" "expected HTTP $2, got $STATUS: $(brief)"
  elif [[ "${ctype%%;*}" != "application/problem+json" ]]; then
    fail "$1" "expected content-type application/problem+json, got '$ctype'"
  elif [[ "$(js 'd["type"]')" != "$3" ]]; then
    fail "$1" "expected problem type '$3', got '$(js 'd.get("type")')'"
  elif [[ "$(js 'd["request_id"]')" != "$(header X-Request-ID)" ]]; then
    fail "$1" "problem request_id '$(js 'd.get("request_id")')' is not X-Request-ID '$(header X-Request-ID)'"
  else
    pass "$1"
  fi
}

# need VALUE WHAT: stop here (every later check depends on it) when VALUE is empty.
need() {
  if [[ -z "$1" || "$1" == "<"* || "$1" == "null" ]]; then
    fail "$2" "later checks depend on it; stopping"
    summary
  fi
}

echo "smoke: testing $BASE_URL${API_KEY:+ (with API key)}"

# --- the server answers at all: fail fast otherwise ------------------------------------------
if ! curl -sS -o /dev/null --connect-timeout 3 --max-time 10 "$BASE_URL/api/v1/ledgers" 2>"$WORK/curl.err"; then
  printf 'FAIL server reachable at %s: %s\n' "$BASE_URL" "$(tr '\n' ' ' <"$WORK/curl.err")"
  printf 'smoke: 0 passed, 1 failed\n'
  exit 2
fi

API=/api/v1/ledgers
LEDGER="smoke-$(date +%s)-$RANDOM"
DESIGN_ENTRY='{"journal": "VE", "date": "2026-11-23", "label": "Facture F-2026-001", "reference": "F-2026-001",
 "lines": [{"account": "411000", "debit": "120.00", "label": "Client Dupont"},
           {"account": "706000", "credit": "100.00"},
           {"account": "445710", "credit": "20.00"}]}'

# --- API key: refused without one --------------------------------------------------------------
if [[ -n "$API_KEY" ]]; then
  saved_key="$API_KEY"
  API_KEY=""
  req GET "$API"
  API_KEY="$saved_key"
  expect_status "GET $API without an API key is refused (401)" 401
fi

# --- the seeded ledger, its chart and its journals -----------------------------------------------
req GET "$API?limit=500"
if [[ "$STATUS" == 200 && "$(js '"main" in [l["code"] for l in d["items"]] and "next_cursor" in d')" == true ]]; then
  pass "GET $API lists ledger main"
else
  fail "GET $API lists ledger main" "HTTP $STATUS: $(brief)"
fi

req GET "$API/main"
if [[ "$STATUS" == 200 && "$(js 'd["code"]')" == main ]]; then
  pass "GET $API/main"
else
  fail "GET $API/main" "HTTP $STATUS: $(brief)"
fi

req GET "$API/main/accounts?limit=5"
if [[ "$STATUS" == 200 && "$(js 'len(d["items"])')" == 5 && "$(js 'd["next_cursor"] is not None')" == true ]]; then
  pass "GET $API/main/accounts pages the chart (limit=5, next_cursor)"
else
  fail "GET $API/main/accounts pages the chart (limit=5, next_cursor)" "HTTP $STATUS: $(brief)"
fi

req GET "$API/main/accounts/411000"
expect "GET $API/main/accounts/411000" "$STATUS $(js '[d["number"], d["class"], d["active"]]')" \
  '200 ["411000", 4, true]'

req GET "$API/main/journals"
expect "GET $API/main/journals has AC VE BQ OD" \
  "$STATUS $(js 'sorted({"AC", "VE", "BQ", "OD"} & {j["code"] for j in d["items"]})')" \
  '200 ["AC", "BQ", "OD", "VE"]'

# --- a throwaway ledger for the writes --------------------------------------------------------
req POST "$API" "{\"code\": \"$LEDGER\", \"name\": \"Smoke test $LEDGER\"}"
expect_status "POST $API creates ledger $LEDGER (201)" 201
need "$(js 'd["code"]')" "ledger $LEDGER created"
L="$API/$LEDGER"

req POST "$L/entries" "$DESIGN_ENTRY"
expect_status "POST entries: the DESIGN.md §6 entry is posted (201)" 201
ENTRY_ID="$(js 'd["id"]')"
need "$ENTRY_ID" "posted entry has an id"
expect "posted entry has its three lines" "$(js '[[l["account"], l["debit"], l["credit"]] for l in d["lines"]]')" \
  '[["411000", "120.00", null], ["706000", null, "100.00"], ["445710", null, "20.00"]]'

req GET "$L/entries/$ENTRY_ID"
expect "GET entries/{id} reads it back" "$STATUS $(js '[d["id"], d["journal"], d["date"], d["label"], d["status"]]')" \
  "200 [\"$ENTRY_ID\", \"VE\", \"2026-11-23\", \"Facture F-2026-001\", \"posted\"]"

req GET "$L/entries"
expect "GET entries lists it" "$STATUS $(js '[e["id"] for e in d["items"]]') $(js 'd["next_cursor"]')" \
  "200 [\"$ENTRY_ID\"] null"

req GET "$L/trial-balance"
expect "GET trial-balance: 411000 balance 120.00" \
  "$STATUS $(js 'next(i["balance"] for i in d["items"] if i["account"] == "411000")')" "200 120.00"
expect "GET trial-balance: totals 120.00 / 120.00 / 0.00" \
  "$(js '[d["totals"]["debit"], d["totals"]["credit"], d["totals"]["balance"]]')" \
  '["120.00", "120.00", "0.00"]'

req GET "$L/accounts/411000/ledger"
expect "GET accounts/411000/ledger: one movement, running balance 120.00" \
  "$STATUS $(js '[[m["entry_id"], m["debit"], m["balance"]] for m in d["items"]]') $(js 'd["closing_balance"]')" \
  "200 [[\"$ENTRY_ID\", \"120.00\", \"120.00\"]] 120.00"

req GET "$L/accounts/411000/balance"
expect "GET accounts/411000/balance: 120.00" \
  "$STATUS $(js '[d["debit"], d["credit"], d["balance"]]')" '200 ["120.00", "0.00", "120.00"]'

# --- reversal ---------------------------------------------------------------------------------
req POST "$L/entries/$ENTRY_ID/reverse"
expect_status "POST entries/{id}/reverse (201)" 201
expect "the reversal points at the entry, same date, label Extourne de …" \
  "$(js '[d["reverses"], d["date"], d["label"]]')" \
  "[\"$ENTRY_ID\", \"2026-11-23\", \"Extourne de Facture F-2026-001\"]"

req POST "$L/entries/$ENTRY_ID/reverse"
expect_problem "reversing it again is refused (409 already-reversed)" 409 already-reversed

req GET "$L/trial-balance"
expect "GET trial-balance after reversal: 411000 balance 0.00, totals balance 0.00" \
  "$(js 'next(i["balance"] for i in d["items"] if i["account"] == "411000")') $(js 'd["totals"]["balance"]')" \
  "0.00 0.00"

# --- refusals ---------------------------------------------------------------------------------
req POST "$L/entries" '{"journal": "VE", "date": "2026-11-23", "label": "Unbalanced",
  "lines": [{"account": "411000", "debit": "121.00"}, {"account": "706000", "credit": "100.00"},
            {"account": "445710", "credit": "20.00"}]}'
expect_problem "an unbalanced entry is refused (422 problem+json unbalanced-entry)" 422 unbalanced-entry
expect "the unbalanced-entry problem carries debit/credit/difference" \
  "$(js '[d["debit"], d["credit"], d["difference"]]')" '["121.00", "120.00", "1.00"]'

req DELETE "$L/entries/$ENTRY_ID"
expect_problem "DELETE on a posted entry is refused (405 entry-immutable)" 405 entry-immutable

req GET "$API/$LEDGER-missing"
expect_problem "an unknown ledger is 404 ledger-not-found" 404 ledger-not-found

# --- Idempotency-Key --------------------------------------------------------------------------
KEY="smoke-$LEDGER-$RANDOM"
SECOND_ENTRY="${DESIGN_ENTRY//F-2026-001/F-2026-002}"
req POST "$L/entries" "$SECOND_ENTRY" -H "Idempotency-Key: $KEY"
FIRST_ID="$(js 'd["id"]')"
expect "POST with a new Idempotency-Key: 201, not a replay" "$STATUS [$(header Idempotent-Replayed)]" "201 []"

req POST "$L/entries" "$SECOND_ENTRY" -H "Idempotency-Key: $KEY"
expect "same key, same body: Idempotent-Replayed: true, same entry" \
  "$STATUS $(header Idempotent-Replayed) $(js 'd["id"]')" "201 true $FIRST_ID"

req POST "$L/entries" "${SECOND_ENTRY//Client Dupont/Client Durand}" -H "Idempotency-Key: $KEY"
expect_problem "same key, other body: 422 idempotency-key-reused" 422 idempotency-key-reused

req GET "$L/entries"
expect "the replayed request posted nothing twice (3 entries)" "$(js 'len(d["items"])')" 3

# --- probes and metrics (no key needed) ----------------------------------------------------------
req GET /api/v1/healthz
expect "healthz: 200 with ok, fallback and mode" \
  "$STATUS $(js 'sorted(k for k in ("ok", "fallback", "mode", "database") if k in d)')" \
  '200 ["database", "fallback", "mode", "ok"]'
req GET /readyz
expect "readyz: 200 ready with the seed" "$STATUS $(js 'd["status"]') $(js 'd["seed"]')" "200 ready true"
req GET /metrics
if [[ "$STATUS" == 200 ]] && grep -q '^grandlivre_http_requests_total{' "$BODY" \
  && grep -q '^grandlivre_http_request_duration_seconds_bucket{' "$BODY"; then
  pass "metrics: Prometheus text with request counters and the duration histogram"
else
  fail "metrics: Prometheus text" "HTTP $STATUS: $(brief)"
fi
if grep -q "$ENTRY_ID" "$BODY"; then
  fail "metrics are labelled by route template" "an entry id appears in /metrics"
else
  pass "metrics are labelled by route template, never by id"
fi
req GET /metrics "" -H "Accept: application/json"
expect "metrics as JSON: requests_total, requests_errors, avg_latency_ms" \
  "$STATUS $(js 'all(k in d for k in ("requests_total", "requests_errors", "avg_latency_ms"))')" \
  "200 true"

# --- roles: a viewer key reads but cannot post ----------------------------------------------------
if [[ -n "$API_KEY" ]]; then
  req POST /api/v1/keys '{"name": "smoke-viewer", "role": "viewer"}'
  VIEWER_KEY="$(js 'd["key"]')"
  VIEWER_ID="$(js 'd["id"]')"
  expect_status "an admin creates a viewer key (201)" 201
  saved_key="$API_KEY"
  API_KEY="$VIEWER_KEY"
  req GET "$L/trial-balance"
  expect_status "the viewer key reads the trial balance (200)" 200
  req POST "$L/entries" "$DESIGN_ENTRY"
  expect_problem "the viewer key cannot post an entry (403 forbidden)" 403 forbidden
  API_KEY="$saved_key"
  req DELETE "/api/v1/keys/$VIEWER_ID"
  saved_key="$API_KEY"
  API_KEY="$VIEWER_KEY"
  req GET "$L/trial-balance"
  API_KEY="$saved_key"
  expect_problem "a revoked key is refused (401 unauthorized)" 401 unauthorized
fi

# --- request ids ------------------------------------------------------------------------------
TRACE="smoke-trace-$RANDOM"
req GET "$L/entries/$ENTRY_ID" "" -H "X-Request-ID: $TRACE"
expect "a well-formed client X-Request-ID is echoed" "$(header X-Request-ID)" "$TRACE"

if ((${#MISSING_REQUEST_ID[@]} == 0)); then
  pass "every response carries X-Request-ID ($RESPONSES responses)"
else
  fail "every response carries X-Request-ID" "missing on ${MISSING_REQUEST_ID[*]}"
fi

# --- rate limit: anonymous requests from one address hit 429 (last: it limits this address) ----
if [[ "${SMOKE_SKIP_429:-}" != 1 ]]; then
  saved_key="$API_KEY"
  API_KEY=""
  LIMITED=""
  for _ in $(seq 1 "${SMOKE_429_ATTEMPTS:-400}"); do
    req GET "$API"
    if [[ "$STATUS" == 429 ]]; then LIMITED=1; break; fi
  done
  API_KEY="$saved_key"
  if [[ -z "$LIMITED" ]]; then
    fail "anonymous requests are rate limited" "no 429 after ${SMOKE_429_ATTEMPTS:-400} requests"
  else
    expect_problem "429: problem+json rate-limited" 429 rate-limited
    expect "429: Retry-After, RateLimit-Policy and RateLimit headers, retry_after_seconds" \
      "$([[ -n "$(header Retry-After)" && -n "$(header RateLimit-Policy)" && -n "$(header RateLimit)" ]] && echo yes) $(js 'd["retry_after_seconds"] > 0')" \
      "yes true"
  fi
fi

summary
