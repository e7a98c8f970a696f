#!/usr/bin/env bash
# Sets up everything Seedance Desktop needs on a Debian/Ubuntu machine: the system libraries Qt and
# its multimedia need, a Python virtual environment in .venv, and the package with pinned versions.
# Safe to run again: it only does what is missing. As root it installs system packages itself;
# otherwise it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

# package:library-or-binary pairs; a package is needed when its file cannot be found.
SYSTEM_NEEDS=(
  "libpulse0:libpulse.so.0"
  "libxcb-icccm4:libxcb-icccm.so.4"
  "libxcb-keysyms1:libxcb-keysyms.so.1"
  "libxcb-cursor0:libxcb-cursor.so.0"
  "libxcb-shape0:libxcb-shape.so.0"
  "libxcb-randr0:libxcb-randr.so.0"
  "libxcb-render-util0:libxcb-render-util.so.0"
  "libxcb-image0:libxcb-image.so.0"
  "libxcb-xkb1:libxcb-xkb.so.1"
  "libx11-xcb1:libX11-xcb.so.1"
  "libxkbcommon0:libxkbcommon.so.0"
  "libxkbcommon-x11-0:libxkbcommon-x11.so.0"
  "libegl1:libEGL.so.1"
  "libgl1:libGL.so.1"
  "libfontconfig1:libfontconfig.so.1"
  "libdbus-1-3:libdbus-1.so.3"
  "libglib2.0-0:libglib-2.0.so.0"
  "fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
  "xvfb:/usr/bin/Xvfb"
  "xauth:/usr/bin/xauth"
  "curl:/usr/bin/curl"
  "desktop-file-utils:/usr/bin/desktop-file-validate"
  "appstream:/usr/bin/appstreamcli"
)

missing=()
tab=$'\t'  # ldconfig -p lists "<tab>libname.so.N (libc6,x86-64) => /path"
libs=$(/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true)
for need in "${SYSTEM_NEEDS[@]}"; do
  pkg=${need%%:*} file=${need#*:}
  if [[ $file == /* ]]; then [[ -e $file ]] || missing+=("$pkg")
  else grep -qF "$tab$file (" <<<"$libs" || missing+=("$pkg"); fi
done
if ! command -v python3 >/dev/null || ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  missing+=(python3 python3-venv python3-pip)
fi

if ((${#missing[@]})); then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) == 0 ]]; then
    echo "Installing system packages: ${missing[*]}"
    bash -c "$cmd" >/tmp/seedance-apt.log 2>&1 || { cat /tmp/seedance-apt.log; exit 1; }
  else
    echo "Seedance Desktop needs these system packages: ${missing[*]}" >&2
    echo "Install them with:  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Seedance Desktop needs Python 3.11 or newer; python3 is $(python3 --version)." >&2; exit 1; }

stamp=.venv/.installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "Setting up the Python environment in .venv (first run takes a minute)..."
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
  echo "$want" >"$stamp"
fi
