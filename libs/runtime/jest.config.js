module.exports = require('../../tools/build/jest.project')(__dirname);
