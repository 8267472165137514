#!/usr/bin/env bash
# The whole test suite: unit, property, emulator and end-to-end tests (the tests
# start the real registry on 127.0.0.1 themselves), with regsweep's `emulator` feature
# so that the `demo` tests run too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-registry.sh >/dev/null
if cargo nextest --version >/dev/null 2>&1; then
  cargo test --workspace --features regsweep/emulator --doc --quiet
  cargo nextest run --workspace --features regsweep/emulator --no-fail-fast "$@"
else
  cargo test --workspace --features regsweep/emulator --no-fail-fast "$@"
fi
