// Database tests start real mariadbd processes; every wait inside them is bounded.
module.exports = require('../../tools/build/jest.project')(__dirname, { testTimeout: 60_000 });
