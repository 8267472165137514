#!/usr/bin/env bash
# The whole test suite: unit, property, emulator and end-to-end tests (the tests
# start the real registry on 127.0.0.1 themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-registry.sh >/dev/null
if cargo nextest --version >/dev/null 2>&1; then
  cargo test --workspace --doc --quiet
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
