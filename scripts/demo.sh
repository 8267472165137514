#!/usr/bin/env bash
# regsweep's demo: plan a retention policy against the built-in GitHub Packages API
# emulator and a local registry holding sample multi-arch, signed images.
# No account, no network. Pass --apply to also delete (inside the emulator) and validate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-registry.sh >/dev/null
exec cargo run --quiet -p regsweep --features emulator -- demo "$@"
