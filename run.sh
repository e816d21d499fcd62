#!/usr/bin/env bash
# Install what the platform needs and start it on its embedded defaults:
# SQLite under instance/, no Redis, no separate worker, schema migrated, demo seeded.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python app.py
