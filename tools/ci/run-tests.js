#!/usr/bin/env node
// `npm test`: lint, build and test every project, then one line summed over all jest projects:
// "N passed, N failed". Exits non-zero when anything failed, including lint or build.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const countsDir = join(root, 'test-output', 'jest');
rmSync(countsDir, { recursive: true, force: true });

const extra = process.argv.slice(2);
const nx = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'lint', 'build', 'test', '--skip-nx-cache', '--outputStyle=static', '--parallel=2', ...extra],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const projects = existsSync(countsDir) ? readdirSync(countsDir).filter((f) => f.endsWith('.json')) : [];
for (const file of projects) {
  const counts = JSON.parse(readFileSync(join(countsDir, file), 'utf8'));
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}
// A lint or build failure, or a project whose tests never ran, is a failure too.
if (nx.status !== 0 && failed === 0) failed = 1;
console.log(`\n${projects.length} test projects; lint and build ${nx.status === 0 ? 'passed' : 'or tests failed'}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(nx.status === 0 && failed === 0 ? 0 : 1);
