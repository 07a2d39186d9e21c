module.exports = {
  displayName: 'lb',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Tests start real backends and lb processes on loopback; every wait inside them is bounded.
  testTimeout: 30_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/apps/lb',
};
