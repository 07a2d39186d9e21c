import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@vita/testing';
import { runCli } from '../app/cli/cli';
import type { RecordSet, RecordType } from '@vita/dns-providers';
import { ADMIN_TOKEN, PEER_TOKEN, until } from '../test/controller-harness';
import { FakeNode } from '../test/fake-node';
import { MemoryProvider } from '../test/memory-provider';
import { attackSite, FakePeer, post, put, sleep, view } from './attack-helpers';

const A = '127.0.0.61';
const B = '127.0.0.62';
let port: number;
let a: FakeNode;
let b: FakeNode;
let dir: string;

/** A provider whose updates can be held (a BIND or Route 53 that takes its time). */
class GatedProvider extends MemoryProvider {
  hold: Promise<void> | null = null;
  override async replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void> {
    if (this.hold) await this.hold;
    return super.replace(name, type, from, to, ttl);
  }
}


const { peers, start, served, cleanup } = attackSite(A, B, () => port);
afterEach(cleanup);

beforeAll(async () => {
  port = await freePort();
  [a, b] = await Promise.all([FakeNode.start('node-a', A, port), FakeNode.start('node-b', B, port)]);
  dir = mkdtempSync(join(tmpdir(), 'vita-dns-attack-drain-'));
});
afterAll(async () => {
  await Promise.all([a.kill(), b.kill()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('drain and undrain under an unlucky operator', () => {
  it('DEFECT a reason of only spaces is accepted and audited as an empty reason', async () => {
    const p = new MemoryProvider();
    const c = await start({}, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    const res = await post(c.url, '/api/v1/nodes/node-a/drain', { reason: '   \t ' }, ADMIN_TOKEN);
    const audit = c.audit.list();
    expect({ status: res.status, reasons: audit.map((r) => r.reason) }).toEqual({ status: 400, reasons: [] });
  });

  it('DEFECT a drain is in effect (state file written, shared) long before it is audited: a crash while publishing leaves no audit record', async () => {
    const p = new GatedProvider();
    const state = join(dir, 'state.json');
    const auditLog = join(dir, 'audit.jsonl');
    const c = await start({ DNS_STATE_FILE: state, DNS_AUDIT_LOG: auditLog }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    let release!: () => void;
    p.hold = new Promise<void>((r) => (release = r));
    const pending = post(c.url, '/api/v1/nodes/node-a/drain', { reason: 'kernel upgrade' }, ADMIN_TOKEN);
    await until('the drain is in the state file', () => existsSync(state) && readFileSync(state, 'utf8').includes('"drained": true'), 3000);
    await sleep(300);
    // This is the moment a kill -9 (or OOM, or power loss) would strike: the drain survives a restart ...
    const audited = existsSync(auditLog) ? readFileSync(auditLog, 'utf8') : '';
    release();
    await pending;
    // ... so the audit log must already say who drained node-a and why.
    expect(audited).toContain('kernel upgrade');
  });

  it('DEFECT a reason from a peer reaches the operator\'s terminal raw: `dns status` prints escape sequences', async () => {
    const p = new MemoryProvider();
    const evil = '\u001b]0;owned\u0007\u001b[2J\u001b[1;1Hall nodes healthy';
    const x = await FakePeer.start(() => view('x', [{ key: `node-a@${A}`, up: true }, { key: `node-b@${B}`, up: true }]));
    peers.push(x);
    const c = await start({ DNS_PEERS: x.url, DNS_PEER_TOKEN: PEER_TOKEN }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    // Refused at the door, naming the field ...
    const drain = { node: 'node-a', drained: true, seq: 1, reason: evil, at: new Date().toISOString(), by: 'x' };
    const refused = await put(c.url, PEER_TOKEN, view('x', [], [drain]));
    expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([400, 'drains[0].reason: must be a string of at most 500 characters, without control characters']);
    expect((await post(c.url, '/api/v1/nodes/node-a/drain', { reason: evil }, ADMIN_TOKEN)).status).toBe(400);
    // ... and whatever a controller answers, the CLI prints no control character.
    const liar = await FakePeer.start(() => ({}));
    peers.push(liar);
    const fake = (await import('node:http')).createServer((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: evil })));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const out: string[] = [];
    await runCli(['status'], { env: { DNS_URL: `http://127.0.0.1:${(fake.address() as { port: number }).port}` }, out: (l) => out.push(l), err: (l) => out.push(l) });
    await new Promise((r) => fake.close(r));
    expect(out.join('\n')).toMatch(/all nodes healthy/);
    // eslint-disable-next-line no-control-regex
    expect(out.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
