import { ConfigError, validateConfig } from './config';

const withTimeouts = (timeouts: Record<string, unknown>) => validateConfig({ backends: [{ name: 'web1', url: 'http://10.0.0.5:3000' }], timeouts });

describe('timeouts.firstByteMs', () => {
  it('defaults to 2000: a hung backend costs a GET about 2 s, under the 3 s the default health check needs to take it out', () => {
    const { timeouts, healthCheck } = withTimeouts({});
    expect(timeouts.firstByteMs).toBe(2000);
    expect(timeouts.firstByteMs).toBeLessThan(healthCheck.fall * healthCheck.intervalMs + healthCheck.timeoutMs);
  });

  it('takes 0 (off) or a whole number of milliseconds from 50 to 3600000', () => {
    for (const ok of [0, 50, 300, 3_600_000]) expect(withTimeouts({ firstByteMs: ok }).timeouts.firstByteMs).toBe(ok);
    for (const bad of [1, 49, 3_600_001, 2000.5, -1, '2000', null]) {
      expect(() => withTimeouts({ firstByteMs: bad })).toThrow(ConfigError);
      expect(() => withTimeouts({ firstByteMs: bad })).toThrow(/^timeouts\.firstByteMs: must be 0 \(off\) or a whole number from 50 to 3600000$/);
    }
  });
});
