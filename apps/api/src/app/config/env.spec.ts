import { EnvError, loadEnv } from '@vita/runtime';
import { ApiEnv, parseReadHosts } from './env';

const valid = {
  DB_READ_HOSTS: 'replica@127.0.0.1:3307',
  DB_READ_USER: 'reader',
  DB_READ_PASSWORD: 'read-secret',
  DB_WRITE_HOST: 'db.example:3306',
  DB_WRITE_USER: 'writer',
  DB_WRITE_PASSWORD: 'write-secret',
  VITA_ADMIN_TOKEN: 'a-token-of-sufficient-length',
};

describe('api environment', () => {
  it('applies defaults and converts numbers', () => {
    const env = loadEnv(ApiEnv, { ...valid, DB_READ_HOSTS: ' replica@127.0.0.1:3307, primary@db.example:3306 ', PORT: '3101' });
    expect(env.PORT).toBe(3101);
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.DB_NAME).toBe('vita');
    expect(env.READY_MAX_LAG_SECONDS).toBe(30);
    expect(env.DB_VERSION_INTERVAL_MS).toBe(50);
    expect(env.DB_HEARTBEAT_SCHEMA).toBe('repl_admin');
    expect(env.VERSIONS_MAX_STREAMS).toBe(1000);
    expect(env.VERSIONS_KEEPALIVE_MS).toBe(15000);
    expect(parseReadHosts(env.DB_READ_HOSTS)).toEqual([
      { role: 'replica', address: { host: '127.0.0.1', port: 3307 }, name: '127.0.0.1:3307' },
      { role: 'primary', address: { host: 'db.example', port: 3306 }, name: 'db.example:3306' },
    ]);
  });

  it.each([
    [{ DB_READ_HOSTS: undefined }, /^invalid environment: DB_READ_HOSTS must be a comma-separated list of role@host:port, role being replica or primary .*\(it is not set\)$/],
    [{ DB_READ_HOSTS: '127.0.0.1:3307' }, /^invalid environment: DB_READ_HOSTS must be a comma-separated list of role@host:port, role being replica or primary/],
    [{ DB_READ_HOSTS: 'replica@127.0.0.1:3307,127.0.0.1:3306' }, /DB_READ_HOSTS must be a comma-separated list of role@host:port/],
    [{ DB_READ_HOSTS: 'source@127.0.0.1:3307' }, /DB_READ_HOSTS must be a comma-separated list of role@host:port/],
    [{ DB_VERSION_INTERVAL_MS: '5' }, /DB_VERSION_INTERVAL_MS must not be less than 10/],
    [{ VERSIONS_MAX_STREAMS: '0' }, /VERSIONS_MAX_STREAMS must not be less than 1/],
    [{ PORT: 'eighty' }, /PORT must be an integer number/],
    [{ DB_WRITE_HOST: 'db.example' }, /DB_WRITE_HOST must be host:port/],
    [{ VITA_ADMIN_TOKEN: 'short' }, /VITA_ADMIN_TOKEN must be at least 16 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ])('refuses %p with one line naming the variable', (change, message) => {
    const attempt = () => loadEnv(ApiEnv, { ...valid, ...change });
    expect(attempt).toThrow(EnvError);
    expect(attempt).toThrow(message);
  });

  it('never repeats a secret value in its error', () => {
    try {
      loadEnv(ApiEnv, { ...valid, VITA_ADMIN_TOKEN: 'tiny-secret' });
      throw new Error('expected a failure');
    } catch (err) {
      expect(String(err)).toContain('VITA_ADMIN_TOKEN');
      expect(String(err)).not.toContain('tiny-secret');
    }
  });
});
