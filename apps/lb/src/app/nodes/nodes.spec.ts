import { Backend } from '../balancer/backend';
import { Balancer, FULL } from '../balancer/balancer';
import { validateConfig } from '../config/config';
import { loadConfig } from '../config/load';
import { backupsWith, parsePeers } from '../control/peers';
import { forwardedByPeer, forwardedHead, ownNode } from './node-headers';
import { describeConnectError } from './tls-errors';

const servers = (local: number, backups: number, maxconn = 100) => {
  const c = validateConfig({
    backends: Array.from({ length: local }, (_, i) => ({ name: `l${i}`, url: `http://127.0.0.1:${1000 + i}`, maxconn })),
    backups: Array.from({ length: backups }, (_, i) => ({ name: `b${i}`, url: `https://127.0.0.1:${2000 + i}`, maxconn })),
  });
  const up = (b: Backend) => (b.setRoute({ name: b.name, up: true, admin: 'ready', upSince: 0 }), b);
  return {
    locals: c.backends.map((s) => new Backend(s, s.maxconn)),
    backups: c.backups.map((s) => up(new Backend(s, s.maxconn, { backup: true, node: 'a' }))),
  };
};
const down = (b: Backend) => b.setRoute({ name: b.name, up: false, admin: 'ready', upSince: 0 });
const name = (p: Backend | typeof FULL | null) => (p instanceof Backend ? p.name : String(p));

describe('backups in the balancer', () => {
  it('are never picked while a local backend is eligible, even one at maxconn', () => {
    const { locals, backups } = servers(2, 2, 1);
    const balancer = new Balancer(locals, 'round-robin', 0, backups);
    expect(Array.from({ length: 4 }, () => name(balancer.pick(0)))).toEqual(['l0', 'l1', 'l0', 'l1']);
    down(locals[0]);
    locals[1].counters.active = 1;
    expect(balancer.pick(0)).toBe(FULL);
    expect(balancer.serving()).toBe(locals);
  });

  it('all eligible backups share the requests once no local one is; a request from a peer gets none', () => {
    const { locals, backups } = servers(2, 3);
    const balancer = new Balancer(locals, 'round-robin', 0, backups);
    locals.forEach(down);
    down(backups[1]);
    expect(Array.from({ length: 4 }, () => name(balancer.pick(0)))).toEqual(['b0', 'b2', 'b0', 'b2']);
    expect(name(balancer.pick(0, [backups[0]]))).toBe('b2');
    expect(balancer.pick(0, null, false)).toBeNull();
    expect(balancer.serving()).toBe(backups);
    expect(balancer.serving(false)).toBe(locals);
    const lo = new Balancer(locals, 'least-outstanding', 0, backups);
    backups[0].counters.active = 5;
    expect(name(lo.pick(0))).toBe('b2');
  });

  it('a backup starts out of service: it takes nothing before the control plane says its checks passed', () => {
    const c = validateConfig({ backends: [{ name: 'l', url: 'http://127.0.0.1:1' }], backups: [{ name: 'b', url: 'http://127.0.0.1:2' }] });
    const backup = new Backend(c.backups[0], 1, { backup: true, node: 'a' });
    expect(backup.eligible).toBe(false);
    expect(new Balancer([], 'round-robin', 0, [backup]).pick(0)).toBeNull();
  });
});

describe('node headers', () => {
  it('recognises x-vita-forwarded-by in any case, and only it', () => {
    expect(forwardedByPeer(['Host', 'x', 'X-Vita-Forwarded-By', 'b'])).toBe(true);
    expect(forwardedByPeer(['host', 'x', 'x-vita-forwarded-by', ''])).toBe(true);
    expect(forwardedByPeer(['Host', 'x', 'X-Vita-Forwarded-Bz', 'b', 'x-vita-node', 'b'])).toBe(false);
  });

  it('adds x-vita-forwarded-by to a request head; a local answer carries this node only, a backup keeps its own', () => {
    expect(forwardedHead('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'a')).toBe('GET / HTTP/1.1\r\nHost: x\r\nX-Vita-Forwarded-By: a\r\n\r\n');
    expect(ownNode(['X-Vita-Node', 'evil', 'Content-Type', 'text/plain', 'x-vita-node', 'again'], 'a')).toEqual(['Content-Type', 'text/plain', 'X-Vita-Node', 'a']);
    const c = validateConfig({ backends: [{ name: 'l', url: 'http://127.0.0.1:1' }], backups: [{ name: 'b', url: 'https://127.0.0.1:2' }] });
    const local = new Backend(c.backends[0], 1, { backup: false, node: 'a' });
    const backup = new Backend(c.backups[0], 1, { backup: true, node: 'a' });
    expect(local.responseHeaders(['x-vita-node', 'b'])).toEqual(['X-Vita-Node', 'a']);
    expect(backup.responseHeaders(['x-vita-node', 'b'])).toEqual(['x-vita-node', 'b']);
    expect(local.requestHead('GET / HTTP/1.1\r\n\r\n')).toBe('GET / HTTP/1.1\r\n\r\n');
    expect(backup.requestHead('GET / HTTP/1.1\r\n\r\n')).toBe('GET / HTTP/1.1\r\nX-Vita-Forwarded-By: a\r\n\r\n');
    expect([local.secure, backup.secure, backup.readyEvent]).toEqual([false, true, 'secureConnect']);
  });

  it('says why a certificate was refused', () => {
    expect(describeConnectError('ERR_TLS_CERT_ALTNAME_INVALID', 'peer.example')).toBe('TLS: its certificate does not name peer.example (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(describeConnectError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'x')).toMatch(/^TLS: its certificate is not signed by a trusted CA/);
    expect(describeConnectError('ECONNREFUSED', 'x')).toBe('ECONNREFUSED');
  });
});

describe('peers from the topology', () => {
  it('validates the document, naming the entry at fault', () => {
    expect(parsePeers({ peers: [{ name: 'b', url: 'https://10.0.0.3:8443' }] })).toEqual({ peers: [{ name: 'b', url: 'https://10.0.0.3:8443' }], skipped: [] });
    // One bad row skips that row only: the others are still learned.
    expect(parsePeers({ peers: [{ name: 'b', url: 'https://10.0.0.3:8443' }, { name: '-x', url: 'https://10.0.0.4:8443' }] })).toEqual({
      peers: [{ name: 'b', url: 'https://10.0.0.3:8443' }],
      skipped: [expect.stringMatching(/^peers\[1\]\.name: .*DNS label/)],
    });
    // Every entry bad: the answer is refused (the last good list stays).
    expect(parsePeers({ peers: [{ name: 'b', url: 'ftp://x:1' }] })).toEqual({ error: expect.stringMatching(/^peers\[0\]\.url: /) });
    expect(parsePeers({ peers: [{ name: 'x', url: 'https://10.0.0.9:99999' }, { name: 'y', url: 'https://10.0.0.9:8443' }] })).toEqual({
      peers: [{ name: 'y', url: 'https://10.0.0.9:8443' }],
      skipped: [expect.stringMatching(/^peers\[0\]\.url: .*65535/)],
    });
    expect(parsePeers({ peers: [] })).toEqual({ peers: [], skipped: [] });
    expect(parsePeers({ peers: 'b' })).toEqual({ error: expect.stringMatching(/^peers: /) });
    expect(parsePeers([])).toEqual({ error: 'the answer is not a JSON object' });
  });

  it('joins the configured backups, leaving out this node and peers already configured', () => {
    const configured = validateConfig({ backends: [{ name: 'l', url: 'http://127.0.0.1:1' }], backups: [{ name: 'c', url: 'https://10.0.0.4:8443' }] }).backups;
    const peers = [
      { name: 'a', url: 'https://10.0.0.2:8443' },
      { name: 'b', url: 'https://10.0.0.3:8443/' },
      { name: 'c', url: 'https://10.0.0.9:8443' },
      { name: 'd', url: 'https://10.0.0.4:8443' },
    ];
    expect(backupsWith(configured, peers, 'a').map((b) => [b.name, b.url])).toEqual([['c', 'https://10.0.0.4:8443'], ['b', 'https://10.0.0.3:8443']]);
  });
});

describe('backup settings', () => {
  const one = [{ name: 'l', url: 'http://127.0.0.1:1' }];
  it('names the entry at fault', () => {
    expect(() => validateConfig({ backends: one, backups: [{ name: 'b', url: 'ftp://x:1' }] })).toThrow(/^backups\[0\]\.url: must be an http or https URL/);
    expect(() => validateConfig({ backends: one, backups: [{ name: 'l', url: 'http://127.0.0.1:2' }] })).toThrow(/^backups\[0\]\.name: "l" is used twice$/);
    expect(() => validateConfig({ backends: one, nodeName: 'a.b' })).toThrow(/^nodeName: must be a DNS label/);
    expect(() => validateConfig({ backends: one, peer: { listen: '127.0.0.1:8443' } })).toThrow(/^peer\.tlsCert: is required with peer\.listen \(LB_PEER_TLS_CERT\); peer\.tlsKey: /);
    expect(() => validateConfig({ backends: one, backends2: [] })).toThrow(/^backends2: is not a known setting$/);
    // (What loadConfig reads from backupCa is not a setting of its own.)
    expect(() => validateConfig({ backends: one, backupCaCerts: ['x'] })).toThrow(/^backupCaCerts: is not a known setting$/);
    expect(validateConfig({ backends: one, backups: [{ name: 'b', url: 'https://peer-b.example:8443' }], nodeName: 'node-a' })).toMatchObject({ nodeName: 'node-a', backups: [{ name: 'b', weight: 1, maxconn: 256 }] });
  });

  it('takes them from the environment, naming the variable or key at fault', () => {
    const env = { LB_BACKENDS: 'l=http://127.0.0.1:1' };
    const loaded = loadConfig({ ...env, LB_BACKUPS: 'b=https://10.0.0.3:8443, c=http://10.0.0.4:8080', LB_NODE_NAME: 'node-a', LB_PEERS_URL: 'http://127.0.0.1:3100/api/v1/sites/peers', LB_PEERS_INTERVAL_MS: '250' });
    expect(loaded.config.backups.map((b) => [b.name, b.url])).toEqual([['b', 'https://10.0.0.3:8443'], ['c', 'http://10.0.0.4:8080']]);
    expect([loaded.config.nodeName, loaded.config.peers.intervalMs]).toEqual(['node-a', 250]);
    expect(() => loadConfig({ ...env, LB_BACKUPS: 'b=ftp://x:1' })).toThrow(/LB_BACKUPS.*name=http\(s\):\/\/host:port/);
    expect(() => loadConfig({ ...env, LB_NODE_NAME: 'node_a' })).toThrow(/: nodeName: must be a DNS label .*set LB_NODE_NAME$/);
    expect(() => loadConfig({ ...env, LB_BACKUP_CA: '/nonexistent/ca.crt' })).toThrow(/: backupCa: cannot read \/nonexistent\/ca\.crt: ENOENT$/);
    // (This file holds no certificate.)
    expect(() => loadConfig({ ...env, LB_BACKUP_CA: __filename })).toThrow(/: backupCa: \S+nodes\.spec\.ts holds no PEM certificate$/);
    expect(() => loadConfig({ ...env, LB_PEER_LISTEN: '127.0.0.1:8443', LB_PEER_TLS_CERT: '/nonexistent.crt', LB_PEER_TLS_KEY: '/nonexistent.key' })).toThrow(/: peer\.tlsCert: cannot read \/nonexistent\.crt: ENOENT$/);
  });
});
