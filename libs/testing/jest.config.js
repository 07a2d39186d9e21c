// Real mariadbd processes: every wait in the code is bounded well below this.
module.exports = require('../../tools/build/jest.project')(__dirname, { testTimeout: 60_000 });
