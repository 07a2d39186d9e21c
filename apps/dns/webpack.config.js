// Bundles: main.js (the controller), cli.js (operators' command line), healthcheck.js.
module.exports = require('../../tools/build/service.webpack')(__dirname, {
  entries: { cli: './src/cli.ts' },
});
