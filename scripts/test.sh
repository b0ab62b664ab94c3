#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL 15 and 17 server binaries), then
# runs the whole suite (unit tests and the integration tests against real clusters).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-postgres.sh 15 17 >&2
cargo test --all-targets "$@"
