#!/usr/bin/env bash
# Install what the platform needs and start it on its embedded defaults:
# SQLite under instance/, no Redis, no separate worker, schema migrated, demo seeded.
# Says what it does at each step; the install is skipped while requirements.txt is unchanged
# since the last successful one (its hash is kept in .venv/requirements.sha256).
set -euo pipefail
cd "$(dirname "$0")"
say() { printf '==> %s\n' "$*"; }

# pip's output, one short line per package it fetches (all of it goes to the log too).
pip_progress() {
  local count=0 line
  while IFS= read -r line; do
    case $line in
      "Collecting "*) count=$((count + 1)); line=${line#Collecting }; printf '    %3d  %s\n' "$count" "${line%% *}" ;;
      "Processing "*) count=$((count + 1)); line=${line#Processing }; line=${line%% *}; printf '    %3d  %s\n' "$count" "${line##*/}" ;;
      "Installing collected packages:"*) echo "    installing the $count packages (quiet until done)..." ;;
      "Successfully installed"*) echo "    done" ;;
    esac
  done
}

if [ ! -x .venv/bin/python ]; then
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "run.sh: the platform needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1))" >&2
    exit 1
  }
  say "creating a virtual environment in .venv"
  python3 -m venv .venv
fi

stamp=.venv/requirements.sha256
wanted=$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("requirements.txt", "rb").read()).hexdigest())')
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  say "dependencies up to date (requirements.txt unchanged since the last install)"
else
  if [ -f "$stamp" ]; then
    say "requirements.txt changed: updating dependencies in .venv (usually a few seconds)..."
  else
    say "installing dependencies into .venv (first time about 2-3 minutes on 2 cores)..."
  fi
  log=.venv/pip-install.log
  if ! .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r requirements.txt 2>&1 \
      | tee "$log" | pip_progress; then
    echo "run.sh: installing the dependencies failed; the end of pip's output (all of it: $log):" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  echo "$wanted" > "$stamp"
fi

say "starting the platform (migrates instance/platform.db; seeds the demo community on the first start)"
exec .venv/bin/python app.py
