// Bundles: main.js, migrate.js (schema migrations), provision.js (database and users), healthcheck.js.
module.exports = require('../../tools/build/service.webpack')(__dirname, {
  entries: { migrate: './src/migrate.ts', provision: './src/provision.ts' },
});
