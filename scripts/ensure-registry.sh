#!/usr/bin/env bash
# Makes sure the CNCF Distribution registry (Debian package `docker-registry`) can be
# found: the demo and the tests start it on 127.0.0.1 themselves, on a free port.
#
# It never installs a system service. Installing the Debian package would run its
# maintainer scripts, which create a system user and enable (and, where systemd
# runs, start) `docker-registry.service` on :5000. Instead the package is downloaded
# with `apt-get download` and only unpacked (`dpkg-deb -x`) into this checkout, at
# target/tools/docker-registry/, where the tests look for it. Nothing is written
# outside the checkout, except the package lists if they must be refreshed
# (`apt-get update`, run with sudo when not root).
#
# Lookup order (the same as crates/regsweep-sim/src/registry.rs): $REGSWEEP_REGISTRY_BIN,
# then target/tools/docker-registry/usr/bin/docker-registry, then `docker-registry` or
# `registry` on PATH. Prints the binary's path on stdout.
#
# Usage: scripts/ensure-registry.sh [--local]
#   --local  unpack the project-local copy even if one is on PATH
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/target/tools/docker-registry"
local_bin="$dest/usr/bin/docker-registry"
force_local=false
case "${1:-}" in
  --local) force_local=true ;;
  "") ;;
  *) echo "usage: scripts/ensure-registry.sh [--local]" >&2; exit 2 ;;
esac

if [ -n "${REGSWEEP_REGISTRY_BIN:-}" ]; then
  if [ -x "$REGSWEEP_REGISTRY_BIN" ]; then
    echo "$REGSWEEP_REGISTRY_BIN"
    exit 0
  fi
  echo "error: REGSWEEP_REGISTRY_BIN is set to \`$REGSWEEP_REGISTRY_BIN\`, which is not an executable file" >&2
  echo "  expected the path of the CNCF Distribution server binary (\`docker-registry\` or \`registry\`)" >&2
  echo "  help: fix the path, or unset REGSWEEP_REGISTRY_BIN to let this script unpack one" >&2
  exit 2
fi
if [ -x "$local_bin" ]; then
  echo "$local_bin"
  exit 0
fi
if ! $force_local; then
  for name in docker-registry registry; do
    if found="$(command -v "$name" 2>/dev/null)"; then
      echo "$found"
      exit 0
    fi
  done
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  cat >&2 <<'EOF'
error: the OCI registry server (CNCF Distribution) is not installed, and this system has no apt-get
  The demo and the tests run a real Distribution registry on 127.0.0.1; this script can
  only fetch it on Debian or Ubuntu (package `docker-registry`).
  help: install the Distribution server yourself (package names vary; for example),
        then point regsweep at its binary:
          Fedora/RHEL: dnf install docker-distribution   (binary: /usr/bin/registry)
          Alpine:      apk add docker-registry           (binary: /usr/bin/docker-registry)
          macOS:       brew install distribution         (binary: registry)
          any system:  build `registry` from github.com/distribution/distribution (Go)
        and run: export REGSWEEP_REGISTRY_BIN=/path/to/registry
        (a `docker-registry` or `registry` found on PATH is used without the variable)
EOF
  exit 1
fi

echo "unpacking docker-registry (the CNCF Distribution server) into $dest (no system service, no root needed for this step)…" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0755 "$work"
if ! (cd "$work" && apt-get download -qq docker-registry >/dev/null 2>&1); then
  echo "refreshing the package lists (apt-get update)…" >&2
  $SUDO apt-get update -qq >&2
  (cd "$work" && apt-get download -qq docker-registry >&2)
fi
deb="$(ls "$work"/docker-registry_*.deb)"
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
# Only the binary is needed; the unit files and /etc config in the unpacked tree are inert.
if ! "$local_bin" --version >/dev/null 2>&1; then
  echo "error: the unpacked registry binary $local_bin does not run" >&2
  echo "  help: set REGSWEEP_REGISTRY_BIN to a working Distribution server binary" >&2
  exit 1
fi
echo "$local_bin"
