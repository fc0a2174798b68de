#!/usr/bin/env bash
# Install what the real-peer tests and the Qt tests need on a bare Debian 12 (idempotent, run as root).
set -euo pipefail

PACKAGES=(
  orthanc orthanc-dicomweb dcmtk gcc libc6-dev
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1
  libdbus-1-3 fonts-dejavu-core poppler-utils nmap curl dbus-daemon gnome-keyring
  request-tracker5 rt5-db-sqlite rt5-standalone
)

# One dpkg-query for all packages keeps the no-op path fast. Only "install ok installed"
# counts: a removed-but-configured package ("deinstall ok config-files") is still missing.
installed=" $(dpkg-query -W -f='${Package}=${Status}\n' "${PACKAGES[@]}" 2>/dev/null \
  | sed -n 's/=install ok installed$//p' | tr '\n' ' ' || true) "
missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ "$installed" == *" $pkg "* ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "tests/peers/install.sh: missing packages: ${missing[*]}" >&2
  echo "run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

# Package postinst scripts would start the system Orthanc on 0.0.0.0:4242/8042 and collide with
# the test peers; a policy-rc.d that exits 101 forbids service starts. Never replace one.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi

echo "tests/peers/install.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Request Tracker (the helpdesk the sync tests run against) asks questions at install time:
# answer them in advance. The tests start RT with their own site config on loopback, so
# dbconfig and the cron jobs stay off.
if ! command -v debconf-set-selections >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debconf-utils
fi
debconf-set-selections <<'DEBCONF'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/rtname string pacs-console.test
request-tracker5 request-tracker5/organization string pacs-console.test
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1
DEBCONF
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
