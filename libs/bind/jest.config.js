module.exports = {
  displayName: 'bind',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Real named (BIND 9) processes on loopback: every wait in the code is bounded well below this.
  testTimeout: 60_000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }]
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/libs/bind'
};
