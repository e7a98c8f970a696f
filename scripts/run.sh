#!/usr/bin/env bash
# Starts Seedance Desktop (on the bundled simulator when no fal key is set). Arguments go to the
# `seedance-desktop` command, e.g. `scripts/run.sh generate --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/seedance-desktop "$@"
