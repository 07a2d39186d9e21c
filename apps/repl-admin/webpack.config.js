// Bundles: main.js, provision.js (heartbeat table and accounts), cli.js (operators' command line), healthcheck.js.
module.exports = require('../../tools/build/service.webpack')(__dirname, {
  entries: { provision: './src/provision.ts', cli: './src/cli.ts' },
});
