const { join } = require('node:path');
const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  // Each project also leaves its counts in test-output/jest/, summed by tools/ci/run-tests.js.
  reporters: ['default', join(__dirname, 'tools', 'ci', 'count-reporter.js')],
};
