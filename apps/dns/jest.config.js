module.exports = {
  displayName: 'dns',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Tests start real BIND (named) servers and controllers on loopback; every wait inside them is bounded.
  testTimeout: 60_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/apps/dns',
};
