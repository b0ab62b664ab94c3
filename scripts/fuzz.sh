#!/usr/bin/env bash
# The property tests of every reader (tests/pure/props.rs) with many more cases than the test
# command runs: any snapshot bytes, truncations and field mutations, EXPLAIN JSON, corpus text
# and files, configuration and policy files, connection strings, service and password files,
# and the round-trip, mirror and baseline properties.
#
#   scripts/fuzz.sh            (20,000 cases per property)
#   scripts/fuzz.sh 200000
#
# A failing case is shrunk, printed and saved in tests/proptest-regressions/ (commit it: every
# later run replays it first); fix the reader and keep the case.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-20000}"
echo "fuzz: ${cases} cases per property"
PGPARITY_PROPTEST_CASES="$cases" cargo test --test pure props -- --test-threads 2
