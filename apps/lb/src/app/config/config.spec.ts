import { EnvError } from '@vita/runtime';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateList, challengesDirOf, ConfigError, redirectNames, validateConfig } from './config';
import { loadConfig } from './load';

describe('lb configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-lb-config-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every default around the backends', () => {
    const c = validateConfig({ backends: [{ name: 'web1', url: 'http://10.0.0.5:3000' }] });
    expect(c).toMatchObject({
      listen: '0.0.0.0:8080',
      admin: { listen: '127.0.0.1:8404' },
      workers: 1,
      algorithm: 'round-robin',
      backends: [{ name: 'web1', url: 'http://10.0.0.5:3000', weight: 1, maxconn: 256 }],
      healthCheck: { path: '/health/ready', expectStatus: 200, intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2, jitter: 0.1 },
      passive: { maxFailures: 3, on5xx: true },
      retries: 3,
      queue: { max: 1024, timeoutMs: 5000 },
      accessLog: { to: 'stdout', sample: 1, maxBufferBytes: 1_048_576 },
      limits: { maxConnections: 10_000, maxConnectionsPerAddress: 256, maxIdleConnections: 1000 },
    });
  });

  it('validates the connection limits and the access-log bound; takes the stats token from the environment only', () => {
    const one = [{ name: 'a', url: 'http://127.0.0.1:1' }];
    expect(() => validateConfig({ backends: one, limits: { maxConnections: 0 } })).toThrow(/^limits\.maxConnections: must not be less than 1$/);
    expect(() => validateConfig({ backends: one, limits: { maxConnectionsPerAddress: 1.5 } })).toThrow(/^limits\.maxConnectionsPerAddress: must be an integer number$/);
    expect(() => validateConfig({ backends: one, limits: { maxIdleConnections: 2 } })).toThrow(/^limits\.maxIdleConnections: must not be less than 16$/);
    expect(() => validateConfig({ backends: one, accessLog: { maxBufferBytes: 1024 } })).toThrow(/^accessLog\.maxBufferBytes: must not be less than 65536$/);
    const loaded = loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_STATS_TOKEN: 'a-long-enough-stats-token' });
    expect(loaded.statsToken).toBe('a-long-enough-stats-token');
    expect(JSON.stringify(loaded.config)).not.toContain('a-long-enough-stats-token');
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_STATS_TOKEN: 'short' })).toThrow(/LB_STATS_TOKEN must be at least 16 characters/);
  });

  it('reads YAML and JSON files, and environment variables override them', () => {
    const yaml = file('lb.yaml', 'listen: 127.0.0.1:9000\nalgorithm: least-outstanding\nbackends:\n  - { name: a, url: "http://127.0.0.1:3001", weight: 3 }\nhealthCheck:\n  intervalMs: 500\n');
    const fromYaml = loadConfig({ LB_CONFIG: yaml }).config;
    expect(fromYaml).toMatchObject({ listen: '127.0.0.1:9000', algorithm: 'least-outstanding', backends: [{ name: 'a', weight: 3 }], healthCheck: { intervalMs: 500, rise: 2 } });

    const json = file('lb.json', JSON.stringify({ backends: [{ name: 'a', url: 'http://127.0.0.1:3001' }], admin: { listen: '127.0.0.1:9001' } }));
    const loaded = loadConfig({ LB_CONFIG: json, LB_LISTEN: '127.0.0.1:9100', LB_BACKENDS: 'x=http://127.0.0.1:1, y=http://[::1]:2', LB_WORKERS: '2', LB_ADMIN_TOKEN: 'a-long-enough-token' });
    expect(loaded.config).toMatchObject({ listen: '127.0.0.1:9100', admin: { listen: '127.0.0.1:9001' }, workers: 2, backends: [{ name: 'x' }, { name: 'y', url: 'http://[::1]:2' }] });
    expect(loaded.source).toBe(`${json} + LB_LISTEN + LB_WORKERS + LB_BACKENDS`);
    expect(loaded.adminToken).toBe('a-long-enough-token');
    expect(JSON.stringify(loaded.config)).not.toContain('a-long-enough-token');
  });

  it('runs on environment variables alone', () => {
    expect(loadConfig({ LB_BACKENDS: 'api1=http://127.0.0.1:3100,api2=http://127.0.0.1:3101' }).config.backends.map((b) => b.name)).toEqual(['api1', 'api2']);
  });

  it('names the key at fault in one line', () => {
    const bad = (doc: Record<string, unknown>) => () => validateConfig(doc);
    const two = [{ name: 'a', url: 'http://127.0.0.1:1' }];
    expect(bad({ backends: [...two, { name: 'b', url: 'ftp://x' }] })).toThrow(/^backends\[1\]\.url: must be an http URL \(http:\/\/host:port\)$/);
    expect(bad({ backends: [...two, { name: 'a', url: 'http://127.0.0.1:2' }] })).toThrow('backends[1].name: "a" is used twice');
    expect(bad({ backends: two, healthCheck: { rise: 0 } })).toThrow(/^healthCheck\.rise: must not be less than 1$/);
    expect(bad({ backends: two, healthCheck: { intervalMs: '1s' } })).toThrow(/^healthCheck\.intervalMs: must be an integer number$/);
    expect(bad({ backends: two, healthchek: {} })).toThrow(/^healthchek: is not a known setting$/);
    expect(bad({ backends: two, algorithm: 'random' })).toThrow('algorithm: must be one of: round-robin, least-outstanding');
    expect(bad({ backends: two, trustedProxies: ['10.0.0.0/8', 'nope'] })).toThrow('trustedProxies: each entry must be an IP address or CIDR range');
    expect(bad({ backends: two, timeouts: { headersMs: 5000, requestMs: 1000 } })).toThrow('timeouts.headersMs: must not exceed timeouts.requestMs');
    expect(bad({ backends: [] })).toThrow(/^backends: must list at least one backend/);
    expect(bad({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/^invalid configuration \(defaults\): backends: must list at least one backend \(LB_CONFIG or LB_BACKENDS/);
  });

  it('says which file or variable is unusable', () => {
    expect(() => loadConfig({ LB_CONFIG: join(dir, 'missing.yaml') })).toThrow(/^cannot read .*missing\.yaml: ENOENT$/);
    expect(() => loadConfig({ LB_CONFIG: file('broken.yaml', 'backends: [\n') })).toThrow(/broken\.yaml is not valid YAML or JSON/);
    expect(() => loadConfig({ LB_CONFIG: file('list.yaml', '- a\n') })).toThrow(/list\.yaml must hold a mapping of settings/);
    expect(() => loadConfig({ LB_BACKENDS: 'a=ftp://x' })).toThrow(EnvError);
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ADMIN_TOKEN: 'short' })).toThrow(/LB_ADMIN_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_LISTEN: 'nowhere' })).toThrow(/^invalid environment: LB_LISTEN must be host:port$/);
  });

  it('takes https.acme: defaults, its files among the certificates (optional until obtained), its names redirected', () => {
    const backends = [{ name: 'a', url: 'http://127.0.0.1:1' }];
    const c = validateConfig({ backends, https: { acme: { names: ['WWW.example.org'], dir: '/var/lib/lb/acme' } } });
    expect(c.https?.acme).toMatchObject({ directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', renewAt: 2 / 3, retryMinMs: 60_000, retryMaxMs: 3_600_000, alertDays: 14 });
    expect(certificateList(c.https as NonNullable<typeof c.https>)).toEqual([{ cert: '/var/lib/lb/acme/cert.pem', key: '/var/lib/lb/acme/key.pem', optional: true }]);
    expect(challengesDirOf(c.https as NonNullable<typeof c.https>)).toBe('/var/lib/lb/acme/challenges');
    expect(redirectNames(c.https as NonNullable<typeof c.https>)).toEqual(['www.example.org']);
    const own = validateConfig({ backends, https: { certificates: [{ cert: '/c', key: '/k' }], challengesDir: '/shared', acme: { names: ['a.example'], dir: '/d' } } }).https;
    expect(certificateList(own as NonNullable<typeof own>).map((f) => f.cert)).toEqual(['/c', '/d/cert.pem']);
    expect(challengesDirOf(own as NonNullable<typeof own>)).toBe('/shared');
  });

  it('with https, the plain listener defaults to port 80 (where ACME challenges and redirects arrive); an explicit listen or LB_LISTEN wins', () => {
    const https = { certificates: [], acme: { names: ['a.example'], dir } };
    const doc = (extra: Record<string, unknown>) => file('plain.json', JSON.stringify({ backends: [{ name: 'a', url: 'http://127.0.0.1:1' }], https, ...extra }));
    expect(loadConfig({ LB_CONFIG: doc({}) }).config.listen).toBe('0.0.0.0:80');
    expect(loadConfig({ LB_CONFIG: doc({ listen: '127.0.0.1:8080' }) }).config.listen).toBe('127.0.0.1:8080');
    expect(loadConfig({ LB_CONFIG: doc({}), LB_LISTEN: '0.0.0.0:8080' }).config.listen).toBe('0.0.0.0:8080');
    expect(loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1' }).config.listen).toBe('0.0.0.0:8080');
  });

  it('names the https.acme key at fault', () => {
    const bad = (https: Record<string, unknown>) => () => validateConfig({ backends: [{ name: 'a', url: 'http://127.0.0.1:1' }], https });
    expect(bad({})).toThrow(/^https\.certificates: must list at least one \{ cert, key \} \(or set https\.acme\)$/);
    expect(bad({ acme: { dir: '/d' } })).toThrow(/^https\.acme\.names: must list at least one DNS name$/);
    expect(bad({ acme: { names: ['a b'], dir: '/d' } })).toThrow(/^https\.acme\.names: each entry must be a DNS name$/);
    expect(bad({ acme: { names: ['a.example'] } })).toThrow(/^https\.acme\.dir: /);
    expect(bad({ acme: { names: ['a.example'], dir: '/d', directoryUrl: 'http://acme.example/dir' } })).toThrow(/^https\.acme\.directoryUrl: must be an https URL$/);
    expect(bad({ acme: { names: ['*.example.org'], dir: '/d' } })).toThrow('https.acme.names: "*.example.org" is a wildcard, which ACME validates only through DNS (set https.acme.dns01)');
    expect(bad({ acme: { names: ['a.example'], dir: '/d', retryMinMs: 90_000, retryMaxMs: 60_000 } })).toThrow('https.acme.retryMinMs: must not exceed https.acme.retryMaxMs');
    expect(bad({ acme: { names: ['a.example'], dir: '/d', email: 'nobody' } })).toThrow(/^https\.acme\.email: must be an e-mail address$/);
    expect(bad({ acme: { names: ['a.example'], dir: '/d', renewAt: 1 } })).toThrow(/^https\.acme\.renewAt: must not be greater than 0\.9$/);
    expect(bad({ acme: { names: ['a.example'], dir: '/d' }, challengePeers: ['https://b.example:80'] })).toThrow(/^https\.challengePeers: each entry must be an http URL/);
    expect(() => loadConfig({ LB_CONFIG: file('acme.yaml', `backends: [{ name: a, url: "http://127.0.0.1:1" }]\nhttps: { acme: { names: [a.example], dir: ${dir}, caFile: ${join(dir, 'no-ca.pem')} } }\n`) })).toThrow(/https\.acme\.caFile: cannot read .*no-ca\.pem: ENOENT/);
    expect(bad({ acme: { names: ['*.example.org'], dir: '/d', dns01: { kind: 'nsupdate' } } })).toThrow(/^https\.acme\.dns01\.kind: must be rfc2136 or route53$/);
    const withDns01 = (dns01: Record<string, unknown>) => () =>
      loadConfig({ LB_CONFIG: file('dns01.json', JSON.stringify({ backends: [{ name: 'a', url: 'http://127.0.0.1:1' }], https: { acme: { names: ['*.example.org'], dir, dns01 } } })) });
    expect(withDns01({ kind: 'rfc2136', zone: 'example.org', keyFile: join(dir, 'none.key') })).toThrow(/https\.acme\.dns01: rfc2136\.server is required/);
    expect(withDns01({ kind: 'rfc2136', server: 'ns1', zone: 'example.org', keyFile: join(dir, 'none.key') })).toThrow(/https\.acme\.dns01: rfc2136\.server must be host:port/);
    expect(withDns01({ kind: 'rfc2136', server: '127.0.0.1:53', zone: 'example.org', keyFile: join(dir, 'none.key') })).toThrow(/https\.acme\.dns01: rfc2136\.keyFile cannot be read: .*none\.key: ENOENT/);
    const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==';
    const keyFile = file('tsig.key', `key "k" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`);
    expect(withDns01({ kind: 'route53', hostedZoneId: 'Z1', zone: 'example.org' })).toThrow(/https\.acme\.dns01: .*zone/);
    const ok = loadConfig({ LB_CONFIG: file('dns01-ok.json', JSON.stringify({ backends: [{ name: 'a', url: 'http://127.0.0.1:1' }], https: { acme: { names: ['*.example.org'], dir, dns01: { kind: 'rfc2136', server: '127.0.0.1:53', zone: 'example.org', keyFile } } } })) });
    expect(ok.config.https?.acme?.dns01).toMatchObject({ kind: 'rfc2136', timeoutMs: 5000, propagationMs: 0 });
    expect(JSON.stringify(ok)).not.toContain(secret);
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ALERT_WEBHOOK_URL: 'ftp://hooks.example/x' })).toThrow(/LB_ALERT_WEBHOOK_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ALERT_WEBHOOK_URL: 'https://ops:hunter2@hooks.example/x' })).toThrow(/LB_ALERT_WEBHOOK_URL must be an http\(s\) URL without user:password in it/);
    expect(() => loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ALERT_WEBHOOK_URL: 'https://ops:hunter2@hooks.example/x' })).not.toThrow(/hunter2/);
    expect(loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ALERT_WEBHOOK_URL: 'https://hooks.example/x?to=a@b.example' }).alerts.url).toBe('https://hooks.example/x?to=a@b.example');
    expect(bad({ acme: { names: ['a.example'], dir: '/d', timeoutMs: 60_000, attemptTimeoutMs: 30_000 } })).toThrow('https.acme.timeoutMs: must not exceed https.acme.attemptTimeoutMs');
    const loaded = loadConfig({ LB_BACKENDS: 'a=http://127.0.0.1:1', LB_ALERT_WEBHOOK_URL: 'https://hooks.example/secret-path' });
    expect(loaded.alerts).toEqual({ url: 'https://hooks.example/secret-path', repeatMs: 3_600_000 });
    expect(JSON.stringify(loaded.config)).not.toContain('secret-path');
  });
});
