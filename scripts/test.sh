#!/usr/bin/env bash
# Runs the whole test suite headless (and the linters), after setting up what is missing.
# Arguments go to pytest, e.g. `scripts/test.sh tests/test_domain_validation.py -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

# Qt, Mesa and PulseAudio write caches into the home directory: keep every test run's in a temp dir.
scratch=$(mktemp -d -t seedance-tests.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export XDG_CACHE_HOME=$scratch/cache XDG_CONFIG_HOME=$scratch/config XDG_DATA_HOME=$scratch/data
export XDG_RUNTIME_DIR=$scratch/runtime
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export QT_LOGGING_RULES="qt.multimedia.*=false"
unset FAL_KEY SEEDANCE_FAL_QUEUE_URL SEEDANCE_FAL_REST_URL SEEDANCE_FAL_CDN_URL

.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy                 # strict below the window (pyproject.toml)
.venv/bin/lint-imports --no-logo --no-cache  # the layers contract (pyproject.toml)
.venv/bin/python -m pytest "$@"
