#!/usr/bin/env bash
# The GitHub Action's steps (action.yml runs them; tests/it/action.rs runs them the same way
# with a simulated runner: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH and RUNNER_TEMP set to
# temporary files and folders).
#   action.sh install   INPUT_VERSION: latest | vX.Y.Z | X.Y.Z | source
#   action.sh check     INPUT_LEFT, INPUT_RIGHT, INPUT_POLICY, INPUT_FAIL_ON, INPUT_HISTORY,
#                       INPUT_FORMAT, INPUT_CONFIG; PGPARITY: the binary `install` put out
# A release is a set of assets: pgparity-<target>.tar.gz (the binary, man page, completions)
# and SHA256SUMS. They are fetched from PGPARITY_RELEASE_URL (default
# https://github.com/<this action's repository>/releases; a mirror or a file:// folder laid out
# the same way works), and the tarball is checked against SHA256SUMS before it is unpacked.
set -euo pipefail

die() {
  echo "::error title=pgparity action::$*"
  exit 2
}

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: run this script from action.yml (or set it as a runner would)}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run this script from action.yml}"

install_pgparity() {
  local version="${INPUT_VERSION:-latest}"
  local root="$RUNNER_TEMP/pgparity"
  mkdir -p "$root/bin"
  if [ "$version" = source ]; then
    command -v cargo >/dev/null || die "version: source builds with cargo, which this runner lacks (install a Rust toolchain first, e.g. rustup)"
    cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$root"
  else
    local target
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
      Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-gnu ;;
      *) die "no pgparity release binary for $(uname -s) $(uname -m); use version: source (builds with cargo)" ;;
    esac
    local repo="${PGPARITY_ACTION_REPOSITORY:-}"
    [ -n "$repo" ] || repo=pgparity/pgparity
    local base="${PGPARITY_RELEASE_URL:-https://github.com/$repo/releases}"
    local url
    case "$version" in
      latest) url="$base/latest/download" ;;
      v*) url="$base/download/$version" ;;
      *) url="$base/download/v$version" ;;
    esac
    local asset="pgparity-$target.tar.gz"
    local dl="$root/download"
    rm -rf "$dl" && mkdir -p "$dl"
    for f in "$asset" SHA256SUMS; do
      curl --fail --silent --show-error --location --retry 3 --output "$dl/$f" "$url/$f" \
        || die "cannot download $url/$f: is '$version' a pgparity release with a $target binary?"
    done
    # Only the tarball's line: SHA256SUMS lists every asset of the release.
    grep -E "^[0-9a-f]{64}  $asset\$" "$dl/SHA256SUMS" > "$dl/check" \
      || die "SHA256SUMS of release '$version' has no line for $asset"
    (cd "$dl" && sha256sum --check --quiet check) \
      || die "checksum mismatch: $asset does not match SHA256SUMS of release '$version'; not installed"
    tar -xzf "$dl/$asset" -C "$dl"
    install -m 755 "$dl/pgparity-$target/pgparity" "$root/bin/pgparity"
  fi
  "$root/bin/pgparity" --version | head -1
  echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
  echo "path=$root/bin/pgparity" >> "$GITHUB_OUTPUT"
}

run_check() {
  local bin="${PGPARITY:-pgparity}"
  : "${INPUT_LEFT:?the input left is required}"
  : "${INPUT_RIGHT:?the input right is required}"
  local out="$RUNNER_TEMP/pgparity-report"
  rm -rf "$out" && mkdir -p "$out"
  # The `report` output: one of the files the run writes anyway, or one more (--also).
  local format="${INPUT_FORMAT:-html}" report extra=()
  case "$format" in
    html) report="$out/report.html" ;;
    markdown | md) report="$out/summary.md" ;;
    json) report="$out/report.json" ;;
    sarif) report="$out/pgparity.sarif" ;;
    junit) report="$out/report.xml" extra=(--also "junit=$report") ;;
    text) report="$out/report.txt" extra=(--also "text=$report") ;;
    *) die "format '$format' is not one of html, markdown, json, junit, sarif, text" ;;
  esac
  local args=()
  [ -z "${INPUT_CONFIG:-}" ] || args+=(--config "$INPUT_CONFIG")
  args+=(check --left "$INPUT_LEFT" --right "$INPUT_RIGHT" --fail-on "${INPUT_FAIL_ON:-high}"
    --format markdown --output "$out/summary.md"
    --also "json=$out/report.json" --also "sarif=$out/pgparity.sarif"
    --also "html=$out/report.html" --also "github=$out/annotations.txt")
  [ -z "${INPUT_POLICY:-}" ] || args+=(--policy "$INPUT_POLICY")
  [ -z "${INPUT_HISTORY:-}" ] || args+=(--history "$INPUT_HISTORY")
  args+=("${extra[@]}")
  local code=0
  "$bin" "${args[@]}" || code=$?
  echo "exit-code=$code" >> "$GITHUB_OUTPUT"
  if [ ! -s "$out/report.json" ]; then
    # Exit 2 (bad input, an environment that cannot be read): pgparity said why on stderr.
    die "pgparity check exited $code without a report; its message is above"
  fi
  # The job summary holds at most 1 MiB per step: a longer report is cut and points to the HTML.
  local limit=1000000
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    if [ "$(wc -c < "$out/summary.md")" -le "$limit" ]; then
      cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
    else
      head -c "$limit" "$out/summary.md" | sed '$d' >> "$GITHUB_STEP_SUMMARY"
      printf '\n\n_The report is longer than a job summary holds: the whole one is the HTML report (output report-html)._\n' >> "$GITHUB_STEP_SUMMARY"
    fi
  fi
  cat "$out/annotations.txt"
  local open
  open=$(jq '[.counts.open[]] | add // 0' "$out/report.json") || die "cannot read $out/report.json with jq"
  {
    echo "sarif=$out/pgparity.sarif"
    echo "report-html=$out/report.html"
    echo "report=$report"
    echo "open-findings=$open"
  } >> "$GITHUB_OUTPUT"
  exit "$code"
}

case "${1:-}" in
  install) install_pgparity ;;
  check) run_check ;;
  *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
