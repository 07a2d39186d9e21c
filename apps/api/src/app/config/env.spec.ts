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
    [{ DB_READ_HOSTS: 'primary@10.0.0.1:3306,primary@10.0.0.2:3306' }, /^invalid environment: DB_READ_HOSTS has more than one primary@ entry \(entry 1, entry 2\): there is one primary$/],
    [{ DB_READ_HOSTS: 'replica@10.0.0.5:3306,replica@10.0.0.5:3306' }, /^invalid environment: DB_READ_HOSTS lists the same server \(host:port\) twice, entry 1 and entry 2, both as replica@$/],
    [{ DB_READ_HOSTS: 'replica@DB.example:3306, primary@db.example:3306' }, /DB_READ_HOSTS lists the same server \(host:port\) twice, entry 1 and entry 2, once as replica@ and once as primary@: a server has one role$/],
    [{ DB_READ_HOSTS: 'replica@db.example:3306' }, /^invalid environment: DB_READ_HOSTS entry 1 is DB_WRITE_HOST's server \(the primary\), listed as replica@$/],
    [{ DB_READ_HOSTS: 'replica@127.0.0.1:0' }, /^invalid environment: DB_READ_HOSTS entry 1 has a port outside 1-65535$/],
    [{ DB_READ_HOSTS: 'replica@127.0.0.1:3307,primary@127.0.0.1:99999' }, /^invalid environment: DB_READ_HOSTS entry 2 has a port outside 1-65535$/],
    [{ DB_READ_HOSTS: 'replica@[::1]:3307' }, /DB_READ_HOSTS must be a comma-separated list of role@host:port/],
    [{ DB_WRITE_HOST: 'db.example:0' }, /^invalid environment: DB_WRITE_HOST must have a port from 1 to 65535$/],
    [{ DB_WRITE_HOST: 'db.example:99999' }, /^invalid environment: DB_WRITE_HOST must have a port from 1 to 65535$/],
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

  it('DB_TLS_CA: an unreadable or non-PEM file stops the boot with one line naming it', () => {
    expect(() => loadEnv(ApiEnv, { ...valid, DB_TLS_CA: '/nonexistent/vita-ca.crt' })).toThrow(
      /^invalid environment: DB_TLS_CA must be a readable PEM file of CA certificates: the file does not exist$/,
    );
    expect(() => loadEnv(ApiEnv, { ...valid, DB_TLS_CA: __filename })).toThrow(/^invalid environment: DB_TLS_CA must be a readable PEM file of CA certificates: the file holds no PEM certificate$/);
    expect(loadEnv(ApiEnv, valid).DB_TLS_CA).toBeUndefined();
  });

  it('accepts one primary@ entry apart from DB_WRITE_HOST, and ports 1 and 65535', () => {
    expect(() => loadEnv(ApiEnv, { ...valid, DB_READ_HOSTS: 'replica@127.0.0.1:1,replica@127.0.0.1:65535,primary@db-read.example:3306' })).not.toThrow();
    expect(() => loadEnv(ApiEnv, { ...valid, DB_READ_HOSTS: 'replica@127.0.0.1:3307,primary@db.example:3306' })).not.toThrow();
  });

  it('names entries by position, never by value (a host may be a misplaced secret)', () => {
    const attempt = () => loadEnv(ApiEnv, { ...valid, DB_READ_HOSTS: 'replica@read-secret:3306,replica@read-secret:3306' });
    expect(attempt).toThrow(/DB_READ_HOSTS lists the same server/);
    expect(attempt).not.toThrow(/read-secret/);
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
