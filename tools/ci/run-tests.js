#!/usr/bin/env node
// `npm test`: lint, build and test every project; then every project's jest suite again on the newest
// LTS line and lb's on each other supported line (tools/ci/node-versions.js), each run testing the
// bundles just built; then one line summed over every jest run: "N passed, N failed". Exits non-zero
// when anything failed, including lint or build.
//
//   TEST_NODE_VERSIONS="24 26" npm test    only these extra lines;  TEST_NODE_VERSIONS=none: none
//   npm test -- -p lb                      arguments go to `nx run-many` (the extra runs test the same projects)
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { delimiter, join } = require('node:path');
const { extraRuns, installNode } = require('./node-versions');

const root = join(__dirname, '..', '..');
const countsDir = join(root, 'test-output', 'jest');
rmSync(countsDir, { recursive: true, force: true });
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const seconds = (since) => Math.round((Date.now() - since) / 1000);
const countFiles = () => (existsSync(countsDir) ? readdirSync(countsDir).filter((f) => f.endsWith('.json')) : []);
const readCounts = (file) => JSON.parse(readFileSync(join(countsDir, file), 'utf8'));
const nxArgs = ['run-many', '--skip-nx-cache', '--outputStyle=static', '--parallel=2'];

const extra = process.argv.slice(2);
const started = Date.now();
const nx = spawnSync('npx', ['nx', ...nxArgs, '-t', 'lint', 'build', 'test', ...extra], { cwd: root, stdio: 'inherit', env });
const runs = [`nx run-many (lint, build, test; Node ${process.version}): ${nx.status === 0 ? 'passed' : 'failed'} in ${seconds(started)} s`];
/** The projects whose suites ran in the first run: the extra runs test these again. */
const tested = countFiles().map((f) => f.replace(/\.json$/, ''));

let extraFailures = 0;
let plan = [];
try {
  if (tested.length > 0) plan = extraRuns();
} catch (err) {
  extraFailures += 1;
  runs.push(`runs on other Node versions: not made (${err.message})`);
}
/** Runs one extra Node line's tests; resolves with its summary line and how many failures it adds. */
async function extraRun({ major, scope }, buffered) {
  const projects = scope === 'all' ? tested : tested.filter((p) => p === 'lb');
  if (projects.length === 0) return null;
  const what = scope === 'all' ? 'every suite' : "lb's suite";
  const started = Date.now();
  let node;
  try {
    node = installNode(major);
  } catch (err) {
    console.error(`\n${what} on Node ${major}: not run: ${err.message}`);
    return { line: `${what} on Node ${major}: not run (${err.message})`, failures: 1 };
  }
  const header = `\n> ${what} on Node ${node.version} (${node.bin})\n`;
  const label = `node${major}`;
  const runEnv = { ...env, PATH: `${node.bin}${delimiter}${env.PATH ?? ''}`, VITA_TEST_LABEL: label };
  const nodeBin = join(node.bin, 'node');
  // nx and jest run on this Node; the bundles the process tests start are the ones just built.
  const args =
    scope === 'all'
      ? [require.resolve('nx/bin/nx', { paths: [root] }), ...nxArgs, '-t', 'test', '--excludeTaskDependencies', ...extra]
      : [require.resolve('jest/bin/jest', { paths: [root] }), '-c', 'apps/lb/jest.config.js', '--ci'];
  if (!buffered) console.log(header);
  const status = await new Promise((resolve) => {
    const child = spawn(nodeBin, args, { cwd: root, stdio: buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: runEnv });
    const out = [];
    child.stdout?.on('data', (d) => out.push(d));
    child.stderr?.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      // Printed whole once it is over, so that runs side by side do not interleave their lines.
      if (buffered) process.stdout.write(`${header}\n${Buffer.concat(out).toString()}`);
      resolve(code ?? signal);
    });
  });
  let passed = 0;
  let failed = 0;
  const missing = [];
  for (const project of projects) {
    const file = `${project}@${label}.json`;
    const counts = existsSync(join(countsDir, file)) ? readCounts(file) : undefined;
    // A suite that never reported, or ran on another Node than asked, counts as a failure.
    if (counts === undefined || !String(counts.node).startsWith(`v${major}.`)) {
      missing.push(project);
    } else {
      passed += counts.passed;
      failed += counts.failed;
    }
  }
  // Every suite reported success but the run still failed (a crash after the tests): a failure too.
  const failures = missing.length + (status !== 0 && failed === 0 && missing.length === 0 ? 1 : 0);
  const exit = status === 0 ? '' : `; exited ${status}`;
  const without = missing.length > 0 ? `; no results on Node ${major} from ${missing.join(', ')}` : '';
  return { line: `${what} on Node ${node.version}: ${passed} passed, ${failed} failed${without}${exit} in ${seconds(started)} s`, failures };
}

async function runExtraLines() {
  // Every suite on the newest line first, alone; then lb's suite on each other line, side by side:
  // each jest run uses one worker on a two-core machine, so two of them share the machine well.
  const all = plan.filter((p) => p.scope === 'all');
  const lbOnly = plan.filter((p) => p.scope !== 'all');
  const results = [];
  for (const p of all) results.push(await extraRun(p, false));
  results.push(...(await Promise.all(lbOnly.map((p) => extraRun(p, lbOnly.length > 1)))));
  for (const r of results.filter(Boolean)) {
    runs.push(r.line);
    extraFailures += r.failures;
  }
}

/** The total over every jest run, and the exit status. */
function report() {
  let passed = 0;
  let failed = extraFailures;
  let skipped = 0;
  const files = countFiles();
  for (const file of files) {
    const counts = readCounts(file);
    passed += counts.passed;
    failed += counts.failed;
    skipped += counts.skipped;
  }
  // A lint or build failure, or a project whose tests never ran, is a failure too.
  if (nx.status !== 0 && failed === 0) failed = 1;
  console.log(`\n${runs.join('\n')}`);
  console.log(`${files.length} jest runs (${files.map((f) => f.replace(/\.json$/, '')).join(', ')}); lint and build ${nx.status === 0 ? 'passed' : 'or tests failed'}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(nx.status === 0 && failed === 0 ? 0 : 1);
}

runExtraLines().then(report, (err) => {
  console.error(err);
  process.exit(1);
});
