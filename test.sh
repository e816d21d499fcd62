#!/usr/bin/env bash
# Run the whole test suite: once on SQLite with in-memory rate limits, then again on
# PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL, defaulting to this machine's).
# Both passes always run and are reported; the exit status is non-zero if either failed.
# Without PostgreSQL or Redis the second pass is skipped with the reason, except under CI,
# where it must run. Each pass runs on TEST_WORKERS pytest-xdist workers (default: two per
# core, since most live tests wait on sockets and servers); TEST_WORKERS=0 runs in one process.
# Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv || exit 1
fi
echo "== installing test requirements into .venv (first time: about 2 minutes)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt || exit 1
# The end-to-end tests (tests/e2e) drive Debian's Chromium through Playwright: never a browser download.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "== installing Debian's Chromium for the end-to-end tests"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null \
    || echo "Chromium could not be installed; tests/e2e will be skipped (and fail under CI)." >&2
fi

WORKERS="${TEST_WORKERS:-$(( $(nproc) * 2 ))}"
PARALLEL=(); [ "$WORKERS" -gt 0 ] && PARALLEL=(-n "$WORKERS" --dist worksteal)
REPORTS="$(mktemp -d)"
trap 'rm -rf "$REPORTS"' EXIT
SUMMARY=()
FAILED=0

# run_pass NAME JUNIT_FILE [env assignments...]: runs pytest, records its exit status and duration.
run_pass() {
  local name="$1" junit="$2"; shift 2
  local started=$SECONDS status
  env "$@" .venv/bin/python -m pytest "${PARALLEL[@]}" --junitxml="$junit" "${PYTEST_ARGS[@]}"
  status=$?
  local took=$(( SECONDS - started ))
  SUMMARY+=("$name: $( [ $status = 0 ] && echo passed || echo "FAILED (pytest exit $status)" ) in $((took / 60)) min $((took % 60)) s")
  [ $status = 0 ] || FAILED=1
}

PYTEST_ARGS=("$@")
echo "== pass 1 of 2: SQLite, in-memory rate limits"
run_pass "pass 1 (SQLite)" "$REPORTS/sqlite.xml" -u TEST_DATABASE_URL -u TEST_REDIS_URL

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
if ! .venv/bin/python scripts/services.py check; then
  .venv/bin/python scripts/services.py start || true
fi
if .venv/bin/python scripts/services.py check; then
  echo "== pass 2 of 2: PostgreSQL ($TEST_DATABASE_URL) and Redis ($TEST_REDIS_URL)"
  run_pass "pass 2 (PostgreSQL + Redis)" "$REPORTS/postgresql.xml"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL or Redis is unreachable and could not be started; CI needs both." >&2
  SUMMARY+=("pass 2 (PostgreSQL + Redis): FAILED (services unreachable)")
  FAILED=1
else
  SUMMARY+=("pass 2 (PostgreSQL + Redis): skipped, PostgreSQL or Redis is unreachable (see above)")
fi

echo
echo "== summary"
printf '%s\n' "${SUMMARY[@]}"
.venv/bin/python scripts/junit_total.py "$REPORTS"/*.xml
exit $FAILED
