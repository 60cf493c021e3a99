#!/usr/bin/env bash
# System packages the test suite needs beyond the virtual env: Chromium for the UI tests
# (Playwright drives Debian's /usr/bin/chromium; it never downloads a browser) and
# shellcheck for the deployment scripts' lint test.
# Idempotent: does nothing when both are already installed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]] && command -v shellcheck >/dev/null 2>&1; then
  echo "install_system_deps: chromium and shellcheck present, nothing to do"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install_system_deps: $CHROMIUM is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_system_deps: no apt-get here; install Chromium at $CHROMIUM yourself" >&2
  exit 1
fi

echo "install_system_deps: installing chromium and shellcheck with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null
"${SUDO[@]}" apt-get install -y -q chromium shellcheck >/dev/null  # chromium's fonts too
echo "install_system_deps: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)"
