#!/usr/bin/env bash
# Downloads the regsweep release binary for this runner, verifies its SHA-256
# checksum against the release's SHA256SUMS, and installs it into DEST_DIR.
#
#   install.sh VERSION DEST_DIR
#
# VERSION is a release tag (v0.1.0). The runner's RUNNER_OS (Linux, macOS, Windows)
# and RUNNER_ARCH (X64, ARM64) choose the asset; REGSWEEP_DOWNLOAD_BASE overrides
# where releases are downloaded from (default: this project's GitHub releases).
# A binary whose checksum does not match, or that SHA256SUMS does not list, is
# refused and removed: nothing unverified is ever left executable.
set -euo pipefail

die() {
  printf '%s\n' "$@" >&2
  exit 1
}

[ $# -eq 2 ] || die "usage: install.sh VERSION DEST_DIR"
version="$1"
dest="$2"
base="${REGSWEEP_DOWNLOAD_BASE:-https://github.com/regsweep/regsweep/releases/download}"
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"

case "$version" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) die "error: version \`$version\` is not a release tag" \
         "  expected vX.Y.Z, e.g. v0.1.0 (the moving major tags are for \`uses:\`, not for downloads)" \
         "  help: set the \`version\` input to a release listed at https://github.com/regsweep/regsweep/releases" ;;
esac

exe=""
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc; exe=".exe" ;;
  *) die "error: no regsweep release binary for $os/$arch" \
         "  release binaries exist for Linux (X64, ARM64), macOS (X64, ARM64) and Windows (X64)" \
         "  help: use the Docker action (uses: regsweep/regsweep@v0) or cargo install --locked regsweep" ;;
esac

asset="regsweep-$target$exe"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# fetch NAME: downloads the release asset NAME into $tmp, or stops with the URL and
# the HTTP status.
fetch() {
  local url="$base/$version/$1" status
  status="$(curl -sSL --proto '=https,http' --retry 3 -o "$tmp/$1" -w '%{http_code}' "$url")" ||
    die "error: cannot download $url" "  help: check the runner's network access to $base"
  if [ "$status" != "200" ]; then
    die "error: the release $version has no asset $1 ($url answered HTTP $status)" \
        "  expected $1 among the assets of $version" \
        "  help: check the \`version\` input; the assets of each release are listed at https://github.com/regsweep/regsweep/releases"
  fi
}

fetch SHA256SUMS
fetch "$asset"

expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || die "error: SHA256SUMS of $version lists no checksum for $asset" \
  "  the binary is not installed: it cannot be verified"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$tmp/$asset" | awk '{ print $1 }')"
else
  actual="$(shasum -a 256 "$tmp/$asset" | awk '{ print $1 }')"
fi
if [ "$actual" != "$expected" ]; then
  die "error: checksum mismatch for $asset of $version: refused" \
      "  SHA256SUMS says $expected, the download is $actual" \
      "  help: retry; if it persists, report it: the download was altered or the release is broken"
fi

mv "$tmp/$asset" "$dest/regsweep$exe"
chmod 755 "$dest/regsweep$exe"
echo "regsweep $version ($target) installed in $dest, SHA-256 $actual verified"
