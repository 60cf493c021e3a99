#!/usr/bin/env bash
# System packages the test suite needs beyond the virtual env: Chromium for the UI tests
# (Playwright drives Debian's /usr/bin/chromium; it never downloads a browser), shellcheck
# for the deployment scripts' lint test, and PostgreSQL's server binaries (initdb,
# postgres), which the tests start on a port of their own (data_platform_tests/fixtures/
# postgres.py): no PostgreSQL service is needed, so none is set up here.
# Idempotent: installs only what is missing, and does nothing when all are present.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

have_postgres_server() {
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
have_postgres_server || missing+=(postgresql)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_system_deps: chromium, shellcheck and postgresql present, nothing to do"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install_system_deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_system_deps: no apt-get here; install ${missing[*]} yourself" >&2
  exit 1
fi

# Debian's postgresql package creates a "main" cluster and starts it at port 5432 unless
# told not to: the tests need only the binaries. The drop-in holds for this install only.
NO_MAIN_CLUSTER=/etc/postgresql-common/createcluster.d/data-platform-no-main-cluster.conf
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  "${SUDO[@]}" mkdir -p "$(dirname "$NO_MAIN_CLUSTER")"
  echo "create_main_cluster = false" | "${SUDO[@]}" tee "$NO_MAIN_CLUSTER" >/dev/null
  trap '"${SUDO[@]}" rm -f "$NO_MAIN_CLUSTER"' EXIT
fi

echo "install_system_deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null
"${SUDO[@]}" apt-get install -y -q "${missing[@]}" >/dev/null  # chromium's fonts too
if [[ -x "$CHROMIUM" ]]; then
  echo "install_system_deps: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)"
fi
