#!/usr/bin/env bash
# Installs, non-interactively, every Debian 12 package MailTriage needs that is not yet present.
#   scripts/install-deps.sh          build + runtime packages
#   scripts/install-deps.sh --test   also the real mail servers and tools the tests drive
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite qt6-charts-dev libqt6opengl6-dev
  libqt6svg6 qt6-qpa-plugins
  libboost-graph-dev libsqlite3-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
  qtkeychain-qt6-dev
  fonts-dejavu-core
)
test_pkgs=(
  postfix dovecot-core dovecot-imapd dovecot-lmtpd swaks pflogsumm
  curl openssl python3
  poppler-utils xvfb xauth time
  dbus gnome-keyring
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests bring their own configuration.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
