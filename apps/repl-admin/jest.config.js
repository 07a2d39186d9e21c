module.exports = {
  displayName: 'repl-admin',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Tests start real mariadbd topologies (primary + 2 replicas); every wait inside them is bounded.
  testTimeout: 90_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/apps/repl-admin',
};
