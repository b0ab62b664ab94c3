#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL 15 and 17 server binaries, plus 13 and 18 for the
# catalog-compatibility and schema-zoo tests; Debian's chromium for the HTML report test, libxml2-utils' xmllint for the
# JUnit schema test, pgbouncer for the tests through a connection pooler, openssl for the TLS tests' certificates), then checks style (cargo fmt --check, clippy with warnings as errors) and runs the whole suite (unit tests, the integration tests against real clusters, and
# the benches in their quick smoke mode).
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
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets "$@"
