#!/usr/bin/env bash
# Install PACS Console from this checkout into ./.venv (Qt's system libraries too, when root).
# Usage: bash packaging/dev-install.sh [--test] [--build]
#   --test adds the test and lint tools, --build PyInstaller (python packaging/build.py)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi

# What PySide6's xcb platform plugin and venv need on a bare Debian 12.
APT_PACKAGES=(python3-venv libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1
  libfontconfig1 libdbus-1-3)
# --build: binutils strips and inspects the frozen app's libraries; dbus and gnome-keyring give
# the smoke test a real Secret Service to find keyring's bundled backends with.
for arg in "$@"; do
  if [[ "$arg" == "--build" ]]; then APT_PACKAGES+=(binutils dbus gnome-keyring); fi
done
if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # python3-venv only matters when this Python cannot make a venv with pip on its own.
  if "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 || -n "$SUDO" ]]; then
      echo "dev-install: installing system packages: ${missing[*]}"
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      echo "dev-install: please install: ${missing[*]}" >&2
    fi
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
wanted=()
for arg in "$@"; do
  case "$arg" in
    --test) wanted+=(test) ;;
    --build) wanted+=(build) ;;
    *) echo "dev-install: unknown option $arg" >&2; exit 2 ;;
  esac
done
extras=""
if [[ ${#wanted[@]} -gt 0 ]]; then extras="[$(IFS=,; echo "${wanted[*]}")]"; fi
# Every dependency at the exact version the suite passed with (packaging/constraints.txt):
# CI, the tests and the frozen build all install the same set.
.venv/bin/python -m pip install -q -c packaging/constraints.txt -e ".${extras}"
echo "dev-install: PACS Console installed in $(pwd)/.venv"
