// Tests start real mariadbd topologies (primary + 2 replicas); every wait inside them is bounded.
module.exports = require('../../tools/build/jest.project')(__dirname, { testTimeout: 90_000 });
