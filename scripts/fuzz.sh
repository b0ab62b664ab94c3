#!/usr/bin/env bash
# The property tests of every reader (tests/pure/props.rs) with many more cases than the test
# command runs: any snapshot bytes, truncations and field mutations, EXPLAIN JSON, corpus text
# and files, configuration and policy files, connection strings, service and password files,
# and the round-trip, mirror and baseline properties.
#
#   scripts/fuzz.sh            (20,000 cases per property)
#   scripts/fuzz.sh 200000
#   scripts/fuzz.sh --libfuzzer 60   (the cargo-fuzz targets in fuzz/, 60 s each; needs a
#                                     nightly toolchain, installs cargo-fuzz if missing)
#
# A failing case is shrunk, printed and saved in tests/proptest-regressions/ (commit it: every
# later run replays it first); fix the reader and keep the case.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--libfuzzer" ]; then
  seconds="${2:-60}"
  if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "error: the cargo-fuzz targets need a nightly toolchain; install it with: rustup toolchain install nightly" >&2
    exit 2
  fi
  cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
  # Each target's corpus starts from the project's own fixtures (kept between runs).
  corpus=fuzz/corpus
  mkdir -p "$corpus"/{snapshot,plan,corpus,config,policy,conninfo}
  PGPARITY_FUZZ_SEEDS="$PWD/$corpus" cargo test -q --test pure props::the_fuzz_seeds_read_back_as_written >/dev/null
  cp queries/tpch/*.sql tests/fixtures/*.sql "$corpus/corpus/"
  awk '/^```toml/{f=1; n++; next} /^```/{f=0} f{print > ("'"$corpus"'/config/readme" n ".toml")}' README.md
  cp "$corpus"/config/*.toml "$corpus/policy/"
  printf '%s\n' 'postgresql://app@db.example:5432/shop?sslmode=require' > "$corpus/conninfo/url"
  printf '%s\n' 'host=db port=5432 dbname=shop user=app service=prod' > "$corpus/conninfo/pairs"
  printf '%s\n' '[prod]' 'host=db' 'dbname=shop' 'db:5432:shop:app:secret' > "$corpus/conninfo/service"
  for target in snapshot plan corpus config policy conninfo; do
    echo "fuzz: $target for ${seconds} s"
    cargo +nightly fuzz run "$target" "$corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 \
      | grep -E "^(#[0-9]+ +DONE|Done|==|SUMMARY|thread)" || true
    if [ -n "$(ls fuzz/artifacts/"$target" 2>/dev/null)" ]; then
      echo "fuzz: $target crashed; inputs in fuzz/artifacts/$target (keep each as a regression test)" >&2
      exit 1
    fi
  done
  exit 0
fi
cases="${1:-20000}"
echo "fuzz: ${cases} cases per property"
PGPARITY_PROPTEST_CASES="$cases" cargo test --test pure props -- --test-threads 2
