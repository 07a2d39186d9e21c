// A jest reporter that writes this project's totals to test-output/jest/<project>.json, so one run
// of every project can end with a single "N passed, N failed" line.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class CountReporter {
  onRunComplete(contexts, results) {
    const config = [...contexts][0]?.config;
    const name = config?.displayName?.name ?? config?.rootDir?.split('/').slice(-2).join('-') ?? 'unknown';
    const dir = join(__dirname, '..', '..', 'test-output', 'jest');
    mkdirSync(dir, { recursive: true });
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(counts));
  }
}

module.exports = CountReporter;
