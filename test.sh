#!/usr/bin/env bash
# Run the whole test suite: once on SQLite with in-memory rate limits, then again on
# PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL, defaulting to this machine's).
# Without those services the second pass is skipped with the reason, except under CI,
# where it must run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# The end-to-end tests (tests/e2e) drive Debian's Chromium through Playwright: never a browser download.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "== installing Debian's Chromium for the end-to-end tests"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null \
    || echo "Chromium could not be installed; tests/e2e will be skipped (and fail under CI)." >&2
fi

echo "== pass 1 of 2: SQLite, in-memory rate limits"
env -u TEST_DATABASE_URL -u TEST_REDIS_URL .venv/bin/python -m pytest "$@"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
if ! .venv/bin/python scripts/services.py check; then
  .venv/bin/python scripts/services.py start || true
fi
if .venv/bin/python scripts/services.py check; then
  echo "== pass 2 of 2: PostgreSQL ($TEST_DATABASE_URL) and Redis ($TEST_REDIS_URL)"
  .venv/bin/python -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL or Redis is unreachable and could not be started; CI needs both." >&2
  exit 1
else
  echo "== pass 2 of 2 skipped: PostgreSQL or Redis is unreachable (see above)."
fi
