#!/usr/bin/env bash
# Installs every Debian package netagm needs to build, test and benchmark.
# Safe to run repeatedly: it installs only what is missing.
# Usage: scripts/deps.sh [--check]   (--check: exit 1 if something is missing)
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries
  libpcap-dev zlib1g-dev libzstd-dev libsnappy-dev libcjson-dev
  liblapacke-dev libopenblas-dev librdkafka-dev libpq-dev libmicrohttpd-dev
  libopenmpi-dev openmpi-bin
  # tests: unit framework, independent reference tools, services
  libcmocka-dev tshark tcpdump tcpreplay iproute2 postgresql zstd time
  python3-numpy python3-sklearn
  # report rendering check
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
