// A jest reporter that writes this project's totals to test-output/jest/<project>.json, so one run
// of every project can end with a single "N passed, N failed" line. A run of the same project on
// another Node.js (tools/ci/run-tests.js sets VITA_TEST_LABEL, e.g. "node24") writes
// <project>@<label>.json beside it, so both are counted.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class CountReporter {
  onRunComplete(contexts, results) {
    const config = [...contexts][0]?.config;
    const name = config?.displayName?.name ?? config?.rootDir?.split('/').slice(-2).join('-') ?? 'unknown';
    const label = process.env.VITA_TEST_LABEL ? `@${process.env.VITA_TEST_LABEL.replace(/[^\w.-]/g, '_')}` : '';
    const dir = join(__dirname, '..', '..', 'test-output', 'jest');
    mkdirSync(dir, { recursive: true });
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      node: process.version,
    };
    writeFileSync(join(dir, `${name}${label}.json`), JSON.stringify(counts));
  }
}

module.exports = CountReporter;
