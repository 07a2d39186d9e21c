// The stack test starts MariaDB and the api as real processes; every wait is bounded.
module.exports = require('./build/jest.project')(__dirname, { testTimeout: 180_000, tsconfig: 'tsconfig.json' });
