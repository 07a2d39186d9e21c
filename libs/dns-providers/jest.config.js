module.exports = {
  displayName: 'dns-providers',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Real named (BIND 9) processes and the Route 53 stand-in on loopback: every wait in the code is bounded well below this.
  testTimeout: 60_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }]
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/libs/dns-providers'
};
