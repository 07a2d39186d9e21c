module.exports = {
  displayName: 'lb',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // Tests start real backends and lb processes on loopback; every wait inside them is bounded.
  testTimeout: 30_000,
  // The outside attack on lb's ACME side (about 5 minutes of hung servers, restarts and reloads)
  // exercises lb's own logic, not what differs between Node lines: it runs in the first run of
  // `npm test` only, not again on the other Node versions (tools/ci/run-tests.js sets VITA_TEST_LABEL
  // for those), where the ACME e2e and the HTTPS suites run as everything else does.
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.VITA_TEST_LABEL ? ['acme-attack'] : [])],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/apps/lb',
};
