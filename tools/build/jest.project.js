// The jest configuration every Vita project shares: ts-jest with the project's spec tsconfig, the
// workspace preset (which also counts results for `npm test`), coverage under coverage/<project>.
const { basename, join, relative } = require('node:path');

const root = join(__dirname, '..', '..');

/**
 * @param {string} projectDir the project's folder (__dirname of its jest.config.js)
 * @param {{ testTimeout?: number, tsconfig?: string }} [options] a longer time limit for tests that start real processes
 */
module.exports = function jestProject(projectDir, options = {}) {
  return {
    displayName: basename(projectDir),
    preset: join(root, 'jest.preset.js'),
    testEnvironment: 'node',
    transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: join(projectDir, options.tsconfig ?? 'tsconfig.spec.json') }] },
    moduleFileExtensions: ['ts', 'js', 'html'],
    coverageDirectory: join(root, 'coverage', relative(root, projectDir)),
    ...(options.testTimeout ? { testTimeout: options.testTimeout } : {}),
  };
};
