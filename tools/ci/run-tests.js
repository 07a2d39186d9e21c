#!/usr/bin/env node
// `npm test`: lint, build and test every project, then lb's whole suite again on each other
// supported Node.js release line (tools/ci/node-versions.js), then one line summed over every jest
// run: "N passed, N failed". Exits non-zero when anything failed, including lint or build.
//
//   TEST_NODE_VERSIONS="24 26" npm test    only these extra lines;  TEST_NODE_VERSIONS=none: none
//   npm test -- -p lb                      arguments go to `nx run-many` (extra runs only if lb ran)
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { delimiter, join } = require('node:path');
const { extraMajors, installNode } = require('./node-versions');

const root = join(__dirname, '..', '..');
const countsDir = join(root, 'test-output', 'jest');
rmSync(countsDir, { recursive: true, force: true });
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const seconds = (since) => Math.round((Date.now() - since) / 1000);

const extra = process.argv.slice(2);
let started = Date.now();
const nx = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'lint', 'build', 'test', '--skip-nx-cache', '--outputStyle=static', '--parallel=2', ...extra],
  { cwd: root, stdio: 'inherit', env },
);
const runs = [`nx run-many (lint, build, test; Node ${process.version}): ${nx.status === 0 ? 'passed' : 'failed'} in ${seconds(started)} s`];

// lb reads HTTP with Node's internal parser: its whole suite runs on every supported Node line. The
// bundle the process tests start is the one nx just built; each run starts lb with its own Node.
let extraFailures = 0;
let majors = [];
try {
  if (existsSync(join(countsDir, 'lb.json'))) majors = extraMajors();
} catch (err) {
  extraFailures += 1;
  runs.push(`lb on other Node versions: not run (${err.message})`);
}
for (const major of majors) {
  started = Date.now();
  let node;
  try {
    node = installNode(major);
  } catch (err) {
    extraFailures += 1;
    runs.push(`lb on Node ${major}: not run (${err.message})`);
    console.error(`\nlb on Node ${major}: not run: ${err.message}`);
    continue;
  }
  console.log(`\n> lb's tests on Node ${node.version} (${node.bin})\n`);
  const label = `node${major}`;
  const jest = spawnSync(join(node.bin, 'node'), [require.resolve('jest/bin/jest', { paths: [root] }), '-c', 'apps/lb/jest.config.js', '--ci'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...env, PATH: `${node.bin}${delimiter}${env.PATH ?? ''}`, VITA_TEST_LABEL: label },
  });
  const file = join(countsDir, `lb@${label}.json`);
  const counts = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  if (counts === undefined) extraFailures += 1; // jest never reported: count it as a failure
  runs.push(`lb on Node ${node.version}: ${counts ? `${counts.passed} passed, ${counts.failed} failed` : `jest exited ${jest.status ?? jest.signal} without results`} in ${seconds(started)} s`);
}

let passed = 0;
let failed = extraFailures;
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
console.log(`\n${runs.join('\n')}`);
console.log(`${projects.length} jest runs (${projects.map((f) => f.replace(/\.json$/, '')).join(', ')}); lint and build ${nx.status === 0 ? 'passed' : 'or tests failed'}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(nx.status === 0 && failed === 0 ? 0 : 1);
