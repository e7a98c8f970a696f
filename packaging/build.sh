#!/usr/bin/env bash
# Build the one-folder Linux bundle and its tarball, then smoke-test the frozen app:
# start it offscreen and close it, `generate --dry-run`, and a real `generate` on the embedded
# simulator. Prints the bundle size and its start-up time against the unfrozen app.
#   packaging/build.sh            (output in dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[package]"

version=$(.venv/bin/python -c 'import seedance_desktop; print(seedance_desktop.__version__)')
arch=$(uname -m)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/seedance-desktop.spec
bundle=dist/seedance-desktop
cp resources/io.github.seedance_desktop.SeedanceDesktop.desktop resources/*.metainfo.xml "$bundle/"
cp -r resources/icons "$bundle/icons"
tarball=dist/seedance-desktop-$version-linux-$arch.tar.gz
tar -C dist -czf "$tarball" seedance-desktop

echo "== smoke tests"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SEEDANCE_HOME=$scratch/home QT_QPA_PLATFORM=offscreen SEEDANCE_SIMULATOR_INSTANT=1
export XDG_RUNTIME_DIR=$scratch/runtime && mkdir -p -m 700 "$XDG_RUNTIME_DIR"
unset FAL_KEY SEEDANCE_FAL_QUEUE_URL SEEDANCE_FAL_REST_URL SEEDANCE_FAL_CDN_URL

"$bundle/seedance-desktop" --version
"$bundle/seedance-desktop" generate --mode text-to-video --prompt "A fox" --duration 5 --dry-run --json >/dev/null
"$bundle/seedance-desktop" generate --mode text-to-video --prompt "A paper boat in the rain" \
  --resolution 480p --duration 4 --out "$scratch/boat.mp4" 2>/dev/null
test -s "$scratch/boat.mp4"
.venv/bin/python - "$scratch/boat.mp4" <<'PY'
import sys
from seedance_desktop.media.probe import probe
info = probe(sys.argv[1])
assert info.kind.value == "video" and info.width == 864, info
print(f"real generate: {info.width}x{info.height}, {info.duration_s:.1f} s")
PY

startup() {  # seconds from process start to a clean exit, less the 1 s it stays open
  .venv/bin/python - "$@" <<'PY'
import os, subprocess, sys, time
env = {**os.environ, "SEEDANCE_QUIT_AFTER_MS": "1000"}
start = time.perf_counter()
subprocess.run(sys.argv[1:], env=env, check=True, capture_output=True, timeout=120)
print(f"{time.perf_counter() - start - 1:.2f}")
PY
}
frozen=$(startup "$bundle/seedance-desktop")
unfrozen=$(startup .venv/bin/seedance-desktop)
size=$(du -sh "$bundle" | cut -f1)
echo "== bundle $bundle: $size; tarball $(du -h "$tarball" | cut -f1)"
echo "== start-up and clean close: frozen ${frozen} s, unfrozen ${unfrozen} s"
