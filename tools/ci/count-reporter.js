// A jest reporter that writes this project's totals to test-output/jest/<project>.json, so one run
// of every project can end with a single "N passed, N failed" line.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class CountReporter {
  constructor(globalConfig, _options, context) {
    this.name = (context && context.config && context.config.displayName && context.config.displayName.name) || 'unknown';
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = join(__dirname, '..', '..', 'test-output', 'jest');
    mkdirSync(dir, { recursive: true });
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${this.name}.json`), JSON.stringify(counts));
  }
}

module.exports = CountReporter;
