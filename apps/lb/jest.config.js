// Tests start real backends and lb processes on loopback; every wait inside them is bounded.
module.exports = require('../../tools/build/jest.project')(__dirname, { testTimeout: 30_000 });
