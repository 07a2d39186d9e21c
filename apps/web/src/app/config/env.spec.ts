import { EnvError, loadEnv } from '@vita/runtime';
import { WebEnv } from './env';

const load = (extra: Record<string, string>) => loadEnv(WebEnv, { API_URLS: 'http://127.0.0.1:3100', ...extra });

describe('web settings', () => {
  it('log every request by default; ACCESS_LOG_SAMPLE takes a share between 0 and 1', () => {
    expect(load({}).ACCESS_LOG_SAMPLE).toBe(1);
    expect(load({ ACCESS_LOG_SAMPLE: '0.05' }).ACCESS_LOG_SAMPLE).toBe(0.05);
    expect(load({ ACCESS_LOG_SAMPLE: '0' }).ACCESS_LOG_SAMPLE).toBe(0);
    for (const bad of ['1.5', '-0.1', 'some', '5%']) {
      expect(() => load({ ACCESS_LOG_SAMPLE: bad })).toThrow(EnvError);
      expect(() => load({ ACCESS_LOG_SAMPLE: bad })).toThrow(/^invalid environment: ACCESS_LOG_SAMPLE /);
    }
  });

  it('push on by default; API_PUSH takes on or off and nothing else', () => {
    expect(load({}).API_PUSH).toBe('on');
    expect(load({ API_PUSH: 'off' }).API_PUSH).toBe('off');
    for (const bad of ['yes', 'true', '0', 'OFF']) expect(() => load({ API_PUSH: bad })).toThrow(/^invalid environment: API_PUSH must be on or off$/);
  });

  it('while a stream is open the copy is still checked every 2 s by default; PUSH_CHECK_MS from 100 ms to an hour', () => {
    expect(load({}).PUSH_CHECK_MS).toBe(2000);
    expect(load({ PUSH_CHECK_MS: '500' }).PUSH_CHECK_MS).toBe(500);
    for (const bad of ['0', '99', '3600001', 'soon', '1.5']) expect(() => load({ PUSH_CHECK_MS: bad })).toThrow(/^invalid environment: PUSH_CHECK_MS /);
  });
});
