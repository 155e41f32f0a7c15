#!/usr/bin/env bash
# Idempotent set-up for `make run` / `make test`: system packages (when root), the venv, Python packages.
# Fast when nothing changed: each step checks before it acts.
#   scripts/setup.sh          what the app needs
#   scripts/setup.sh --test   plus Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# --- system packages -------------------------------------------------------
need=()
ldconfig -p 2>/dev/null | grep -q libfluidsynth.so || need+=(libfluidsynth3)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; } \
      || echo "setup: WARNING: apt could not install ${need[*]}"
  else
    echo "setup: WARNING: missing system packages: ${need[*]}"
    echo "       install them with: sudo apt-get install --no-install-recommends ${need[*]}"
    echo "       (without libfluidsynth, MIDI renders as sine waves; without chromium, the browser test is skipped)"
  fi
fi

# --- virtual environment ---------------------------------------------------
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
reqs=requirements.txt
[ "$want_test" = 1 ] && reqs=requirements-dev.txt  # adds pytest and playwright
stamp="$VENV/.${reqs%.txt}.sha256"
sum=$(cat requirements.txt "$reqs" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "setup: installing $reqs into $VENV (first time: a few minutes)"
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" > "$VENV/pip.log" 2>&1; then
    tail -40 "$VENV/pip.log"; echo "setup: pip install failed (full log: $VENV/pip.log)"; exit 1
  fi
  # the project itself, editable, so that bench/ and scripts/ import core without editing sys.path
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e . >> "$VENV/pip.log" 2>&1; then
    tail -40 "$VENV/pip.log"; echo "setup: pip install -e . failed (full log: $VENV/pip.log)"; exit 1
  fi
  echo "$sum" > "$stamp"
fi
