#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL 15 and 17 server binaries, plus 13 and 18 for the
# catalog-compatibility test), then
# runs the whole suite (unit tests and the integration tests against real clusters).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-postgres.sh 13 15 17 18 >&2
cargo test --all-targets "$@"
