import { EnvError } from '@vita/runtime';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';

const valid = {
  REPL_SERVERS: 'primary=10.0.0.1:3306, replica1=10.0.0.2:3306@node-a,replica2=db-b.example:3307@node-b',
  REPL_MONITOR_USER: 'repl_monitor',
  REPL_MONITOR_PASSWORD: 'monitor-secret',
  REPL_ADMIN_USER: 'repl_admin',
  REPL_ADMIN_PASSWORD: 'admin-secret',
  REPL_ADMIN_TOKEN: 'a-token-of-sufficient-length',
};

describe('repl-admin configuration', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'repl-admin-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the server list (the primary first, node labels optional) and applies defaults', () => {
    const c = loadConfig(valid);
    expect(c.servers.primary).toEqual({ name: 'primary', host: '10.0.0.1', port: 3306, node: null, role: 'primary' });
    expect(c.servers.replicas).toEqual([
      { name: 'replica1', host: '10.0.0.2', port: 3306, node: 'node-a', role: 'replica' },
      { name: 'replica2', host: 'db-b.example', port: 3307, node: 'node-b', role: 'replica' },
    ]);
    expect(c.env).toMatchObject({ PORT: 3200, HOST: '0.0.0.0', REPL_DB_NAME: 'vita', REPL_POLL_INTERVAL_MS: 1000, REPL_HEARTBEAT_INTERVAL_MS: 1000, REPL_AUTO_REPAIR: 'on' });
  });

  it('reads the same from a YAML or JSON file', () => {
    const yaml = join(dir, 'servers.yaml');
    writeFileSync(yaml, 'primary: { name: primary, address: "10.0.0.1:3306" }\nreplicas:\n  - { name: replica1, address: "10.0.0.2:3306", node: node-a }\n');
    const json = join(dir, 'servers.json');
    writeFileSync(json, JSON.stringify({ primary: { name: 'primary', address: '10.0.0.1:3306' }, replicas: [{ name: 'replica1', address: '10.0.0.2:3306', node: 'node-a' }] }));
    const fromEnv = loadConfig({ ...valid, REPL_SERVERS: 'primary=10.0.0.1:3306,replica1=10.0.0.2:3306@node-a' }).servers;
    for (const file of [yaml, json]) expect(loadConfig({ ...valid, REPL_SERVERS: undefined, REPL_SERVERS_FILE: file }).servers).toEqual(fromEnv);
  });

  it('accepts a primary alone: a new warehouse, whose replicas come from the topology as nodes join', () => {
    expect(loadConfig({ ...valid, REPL_SERVERS: 'primary=10.0.0.1:3306' }).servers).toEqual({
      primary: { name: 'primary', host: '10.0.0.1', port: 3306, node: null, role: 'primary' },
      replicas: [],
    });
  });

  it.each([
    [{ REPL_SERVERS: undefined }, /^invalid environment: REPL_SERVERS must be a comma-separated list of name=host:port\[@node\].*\(it is not set\)$/],
    [{ REPL_SERVERS: 'primary=10.0.0.1' }, /REPL_SERVERS must be a comma-separated list/],
    [{ REPL_SERVERS: 'a=h:1,a=h:2' }, /REPL_SERVERS names server "a" twice/],
    [{ REPL_ADMIN_TOKEN: 'short' }, /REPL_ADMIN_TOKEN must be at least 16 characters/],
    [{ REPL_POLL_INTERVAL_MS: 'often' }, /REPL_POLL_INTERVAL_MS must be an integer number/],
    [{ REPL_POLL_INTERVAL_MS: '5' }, /REPL_POLL_INTERVAL_MS must not be less than 100/],
    [{ REPL_ALERT_WEBHOOK_URL: 'ftp://hooks.example/x' }, /REPL_ALERT_WEBHOOK_URL must be an http\(s\) URL/],
    [{ REPL_REPLICATION_USER: 'repl' }, /REPL_REPLICATION_PASSWORD must be set when REPL_REPLICATION_USER is/],
    [{ REPL_DB_NAME: 'vita; DROP' }, /REPL_DB_NAME must be a plain schema name/],
    [{ REPL_AUTO_REPAIR: 'maybe' }, /REPL_AUTO_REPAIR must be one of/],
  ])('refuses %p with one line naming the variable', (change, message) => {
    const attempt = () => loadConfig({ ...valid, ...change });
    expect(attempt).toThrow(EnvError);
    expect(attempt).toThrow(message);
  });

  it('names the bad entry of a servers file, and never repeats a secret', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'primary: { name: primary, address: "10.0.0.1:3306" }\nreplicas:\n  - { name: replica1, address: "nowhere" }\n');
    expect(() => loadConfig({ ...valid, REPL_SERVERS: undefined, REPL_SERVERS_FILE: file })).toThrow(/^invalid environment: REPL_SERVERS_FILE replicas\[0\]\.address: address must be host:port$/);
    try {
      loadConfig({ ...valid, REPL_ADMIN_TOKEN: 'tiny-secret' });
    } catch (err) {
      expect(String(err)).not.toContain('tiny-secret');
    }
    expect.assertions(2);
  });
});
