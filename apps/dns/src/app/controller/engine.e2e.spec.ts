import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@vita/testing';
import { ADMIN_TOKEN, PEER_TOKEN, startController, until, type RunningController } from '../../test/controller-harness';
import { FakeNode } from '../../test/fake-node';
import { MemoryProvider } from '../../test/memory-provider';
import { ProviderError } from '@vita/dns-providers';

const NAME = 'resume.vita.test';
const started: RunningController[] = [];
const nodes: FakeNode[] = [];
let port: number;
let a: FakeNode;
let b: FakeNode;
const NODES = () => `node-a=${a.address},node-b=${b.address}`;
const start = async (env: Record<string, string>, providers = [new MemoryProvider()], listen?: number) => {
  const c = await startController({ DNS_NAME: NAME, DNS_NODES: NODES(), DNS_PROBE_PORT: String(port), ...env }, providers, listen);
  started.push(c);
  return c;
};
const served = (p: MemoryProvider) => p.serves(NAME, 'A').join(' ');

beforeAll(async () => {
  port = await freePort();
  [a, b] = await Promise.all([FakeNode.start('node-a', '127.0.0.21', port), FakeNode.start('node-b', '127.0.0.22', port)]);
  nodes.push(a, b);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()));
  a.mode = b.mode = 'page';
  a.version = b.version = 1;
  await Promise.all(nodes.map((n) => n.revive()));
});
afterAll(() => Promise.all(nodes.map((n) => n.kill())));

describe('the controller, one vantage point (real HTTP nodes on loopback, an in-memory provider)', () => {
  it('changes nothing before its first round of probes is over, then publishes every node that serves the page', async () => {
    const p = new MemoryProvider();
    p.handEdit(NAME, 'A', ['127.0.0.99']);
    a.mode = 'hang';
    const c = await start({ DNS_PROBE_TIMEOUT_MS: '180', DNS_PROBE_INTERVAL_MS: '400' }, [p]);
    // A's probe takes the whole timeout: until it ends, the round is not over and nothing is written.
    await new Promise((r) => setTimeout(r, 100));
    expect([served(p), p.replaces]).toEqual(['127.0.0.99', 0]);
    await until('B published alone', () => served(p) === '127.0.0.22');
    const s = await c.status();
    expect(s.endpoints.map((e) => [e.node, e.published, e.verdict])).toEqual([['node-a', false, 'down'], ['node-b', true, 'healthy']]);
    expect(s.endpoints[0].here?.last?.error).toBe('no complete answer within 180 ms');
    // The probe is what a visitor sends: the public name as Host.
    expect([...b.hosts]).toEqual([`${NAME}:${port}`]);
  });

  it('withdraws a node that dies after `fall` failed probes and publishes it again after `rise` good ones', async () => {
    const p = new MemoryProvider();
    const c = await start({}, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    await a.kill();
    await until('A withdrawn', () => served(p) === '127.0.0.22');
    expect((await c.status()).endpoints[0]).toMatchObject({ published: false, verdict: 'down', reason: '1 of 1 vantage points see it down' });
    await a.revive();
    await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
  });

  it('judges an error page, a page without a version, or a hung node down, like a dead one', async () => {
    const p = new MemoryProvider();
    const c = await start({}, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    a.mode = 'error';
    await until('A withdrawn', () => served(p) === '127.0.0.22');
    expect((await c.status()).endpoints[0].here?.last?.error).toBe('status 503, expected 200');
  });

  it('shows people a status page: each node published or withdrawn and why, each provider, escaped', async () => {
    const p = new MemoryProvider();
    const c = await start({ DNS_ADMIN_TOKEN: ADMIN_TOKEN }, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    await a.kill();
    await until('A withdrawn', () => served(p) === '127.0.0.22');
    const res = await fetch(`${c.url}/`);
    const html = await res.text();
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(html).toMatch(/<td>node-a<\/td><td><code>127\.0\.0\.21<\/code> \(A\)<\/td>\s*<td><span class="badge act">withdrawn<\/span><\/td>\s*<td>down: 1 of 1 vantage points see it down<\/td>/);
    expect(html).toMatch(/<td>node-b<\/td>.*\s*<td><span class="badge ok">published<\/span>/);
    expect(html).toMatch(/<td>memory<\/td><td><span class="badge ok">ok<\/span><\/td>\s*<td>A <code>127\.0\.0\.22<\/code>/);
    await a.revive();
    await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
    await fetch(`${c.url}/api/v1/nodes/node-a/drain`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ reason: '<script>alert(1)</script> & more' }) });
    const drained = await (await fetch(`${c.url}/`)).text();
    expect(drained).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(drained).not.toContain('<script>');
  });

  it('tells the alert webhook once when a node is withdrawn (not every round), and once when it is back', async () => {
    const events: Array<{ event: string; key: string; text: string }> = [];
    const hook = (await import('node:http')).createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        events.push(JSON.parse(body) as { event: string; key: string; text: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const p = new MemoryProvider();
      const c = await start({ DNS_ALERT_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook?token=hook-secret-0123` }, [p]);
      await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
      await a.kill();
      await until('A withdrawn', () => served(p) === '127.0.0.22');
      // Several more rounds with A down: still one alert.
      const rounds = (await c.status()).rounds;
      await until('five more rounds', async () => (await c.status()).rounds >= rounds + 5);
      await a.revive();
      await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
      await until('the resolved event', () => events.some((e) => e.event === 'resolved'));
      expect(events.map((e) => [e.event, e.key])).toEqual([
        ['problem', 'withdrawn:node-a@127.0.0.21'],
        ['resolved', 'withdrawn:node-a@127.0.0.21'],
      ]);
      expect(events[0].text).toBe(`node-a (127.0.0.21) is withdrawn from ${NAME}: 1 of 1 vantage points see it down`);
      expect(await (await fetch(`${c.url}/metrics`)).text()).toMatch(/vita_dns_alerts_total\{event="problem",result="sent"\} 1/);
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });

  it('fails open: with every node down, every node is published', async () => {
    const p = new MemoryProvider();
    const c = await start({}, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    await Promise.all([a.kill(), b.kill()]);
    await until('both judged down', async () => (await c.status()).endpoints.every((e) => e.verdict === 'fail-open'));
    expect(served(p)).toBe('127.0.0.21 127.0.0.22');
    expect((await c.status()).failOpen).toEqual(['A']);
  });

  it('keeps a node that came back out for the minimum hold time', async () => {
    const p = new MemoryProvider();
    const c = await start({ DNS_MIN_HOLD_MS: '1500' }, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    await a.kill();
    await until('A withdrawn', () => served(p) === '127.0.0.22');
    const withdrawnAt = Date.now();
    await a.revive();
    await until('A held', async () => (await c.status()).endpoints[0].verdict === 'held');
    await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
    expect(Date.now() - withdrawnAt).toBeGreaterThanOrEqual(1400);
  });

  it('withdraws a node that keeps serving an older document than the other (replication broken there)', async () => {
    const p = new MemoryProvider();
    const c = await start({ DNS_STALE_AFTER_S: '1' }, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    b.version = 2;
    await until('A withdrawn as stale', () => served(p) === '127.0.0.22');
    expect((await c.status()).endpoints[0]).toMatchObject({ verdict: 'stale', version: 1 });
    a.version = 2;
    await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
  });

  it('puts back a record set edited by hand, and says so', async () => {
    const p = new MemoryProvider();
    const c = await start({ DNS_CONVERGE_INTERVAL_MS: '1000' }, [p]);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    p.handEdit(NAME, 'A', ['127.0.0.66']);
    await until('put back', () => served(p) === '127.0.0.21 127.0.0.22', 5000);
    expect((await c.status()).providers[0].corrections).toBe(1);
    expect(await (await fetch(`${c.url}/metrics`)).text()).toMatch(/vita_dns_provider_corrections_total\{provider="memory",type="A"\} 1/);
  });

  it('retries a failing provider without holding back another, and reports it', async () => {
    const good = new MemoryProvider('good');
    const bad = new MemoryProvider('bad');
    bad.failNext = new ProviderError('auth', 'NOTAUTH (BADSIG) from 127.0.0.1:53');
    const c = await start({}, [bad, good]);
    await until('published on the good one', () => served(good) === '127.0.0.21 127.0.0.22');
    await until('published on the bad one after its retry', () => served(bad) === '127.0.0.21 127.0.0.22', 5000);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(metrics).toMatch(/vita_dns_provider_update_errors_total\{provider="bad",kind="auth"\} 1/);
  });
});

describe('drain and undrain (token, reason, audit, kept across a restart)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'vita-dns-drain-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const post = (c: RunningController, path: string, body: unknown, token?: string) =>
    fetch(`${c.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

  it('needs the token and a reason; withdraws at once and says when it is safe; undrain brings it back; a restart keeps the drain', async () => {
    const p = new MemoryProvider();
    const env = { DNS_ADMIN_TOKEN: ADMIN_TOKEN, DNS_STATE_FILE: join(dir, 'state.json'), DNS_AUDIT_LOG: join(dir, 'audit.jsonl'), DNS_TTL: '30' };
    const listen = await freePort();
    let c = await start(env, [p], listen);
    await until('both published', () => served(p) === '127.0.0.21 127.0.0.22');
    expect((await post(c, '/api/v1/nodes/node-a/drain', { reason: 'kernel upgrade' })).status).toBe(401);
    expect((await post(c, '/api/v1/nodes/node-a/drain', { reason: 'kernel upgrade' }, 'wrong-token-0123456789')).status).toBe(403);
    const noReason = await post(c, '/api/v1/nodes/node-a/drain', {}, ADMIN_TOKEN);
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(await noReason.json())).toMatch(/reason/);
    expect((await post(c, '/api/v1/nodes/node-x/drain', { reason: 'x' }, ADMIN_TOKEN)).status).toBe(404);
    expect(served(p)).toBe('127.0.0.21 127.0.0.22');

    const before = Date.now();
    const res = await post(c, '/api/v1/nodes/node-a/drain', { reason: 'kernel upgrade' }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { safeAt: string; record: { message: string; outcome: string }; published: Array<{ ok: boolean }> };
    // Withdrawn by the time the call answers.
    expect(served(p)).toBe('127.0.0.22');
    expect(answer.published).toEqual([{ provider: 'memory', ok: true, error: null }]);
    expect(Date.parse(answer.safeAt) - before).toBeGreaterThanOrEqual(90_000);
    expect(Date.parse(answer.safeAt) - Date.now()).toBeLessThanOrEqual(90_000);
    expect(answer.record.message).toMatch(/^withdrawn from memory; safe to work on node-a after .* \(TTL 30 s \+ the 60 s browsers keep an answer\)$/);
    // The last node not drained cannot be drained.
    const last = await post(c, '/api/v1/nodes/node-b/drain', { reason: 'both at once' }, ADMIN_TOKEN);
    expect(last.status).toBe(409);

    await c.close();
    started.splice(started.indexOf(c), 1);
    c = await start(env, [p], listen);
    await until('a round after the restart', async () => (await c.status()).rounds >= 2);
    expect(served(p)).toBe('127.0.0.22');
    expect((await c.status()).endpoints[0]).toMatchObject({ verdict: 'drained', reason: expect.stringMatching(/^kernel upgrade \(here, \S+\)$/) });

    expect((await post(c, '/api/v1/nodes/node-a/undrain', { reason: 'done' }, ADMIN_TOKEN)).status).toBe(200);
    expect(served(p)).toBe('127.0.0.21 127.0.0.22');
    await c.audit.flushed();
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; node: string; outcome: string; reason: string });
    expect(audit.map((r) => [r.action, r.node, r.outcome, r.reason])).toEqual([
      ['drain', 'node-a', 'accepted', 'kernel upgrade'],
      ['drain', 'node-a', 'done', 'kernel upgrade'],
      ['drain', 'node-b', 'refused', 'both at once'],
      ['undrain', 'node-a', 'accepted', 'done'],
      ['undrain', 'node-a', 'done', 'done'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(ADMIN_TOKEN);
  });
});

describe('several vantage points (three controllers sharing views over HTTP, one provider)', () => {
  const trio = async (p: MemoryProvider, over: Array<Record<string, string>> = [{}, {}, {}]) => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const names = ['w', 'x', 'y'];
    return Promise.all(
      names.map((n, i) =>
        start({ DNS_VANTAGE: n, DNS_PEER_TOKEN: PEER_TOKEN, DNS_ADMIN_TOKEN: ADMIN_TOKEN, DNS_PEERS: ports.filter((_, j) => j !== i).map((q) => `http://127.0.0.1:${q}`).join(','), ...over[i] }, [p], ports[i]),
      ),
    );
  };

  it('withdraws a node every vantage point sees down, and shares a drain from one controller with the others', async () => {
    const p = new MemoryProvider();
    const [w, x] = await trio(p);
    await until('both published and quorum', async () => served(p) === '127.0.0.21 127.0.0.22' && (await w.status()).vantages.heard.length === 3);
    await a.kill();
    await until('A withdrawn', () => served(p) === '127.0.0.22');
    // A majority withdraws it; the third view reaches x with the next exchange.
    await until('every vantage point’s down vote at x', async () => (await x.status()).endpoints[0].downVotes.sort().join() === 'w,x,y');
    await a.revive();
    await until('A back', () => served(p) === '127.0.0.21 127.0.0.22');
    const res = await fetch(`${w.url}/api/v1/nodes/node-b/drain`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ reason: 'disk swap' }) });
    expect(res.status).toBe(200);
    expect(served(p)).toBe('127.0.0.21');
    // The others know at once and never put it back.
    expect((await x.status()).drains).toEqual([expect.objectContaining({ node: 'node-b', drained: true, by: 'w', reason: 'disk swap' })]);
    const replaces = p.replaces;
    await new Promise((r) => setTimeout(r, 1500));
    expect([served(p), p.replaces]).toEqual(['127.0.0.21', replaces]);
  });

  it('one vantage point that sees every node down (its own uplink broken) withdraws nothing', async () => {
    const p = new MemoryProvider();
    // y probes a port nothing listens on: from there every node looks dead.
    const [w, , y] = await trio(p, [{}, {}, { DNS_PROBE_PORT: String(await freePort()) }]);
    await until('quorum', async () => (await w.status()).vantages.heard.length === 3);
    await new Promise((r) => setTimeout(r, 1000));
    expect(served(p)).toBe('127.0.0.21 127.0.0.22');
    expect((await y.status()).endpoints.map((e) => [e.published, e.downVotes, e.upVotes.length])).toEqual([[true, ['y'], 2], [true, ['y'], 2]]);
  });

  it('a controller cut off from its peers has no quorum and changes nothing', async () => {
    const p = new MemoryProvider();
    p.handEdit(NAME, 'A', ['127.0.0.21', '127.0.0.22']);
    // Its peers are configured but none runs: it hears only itself (1 of 3).
    const lonely = await start({ DNS_VANTAGE: 'w', DNS_PEER_TOKEN: PEER_TOKEN, DNS_PEERS: `http://127.0.0.1:${await freePort()},http://127.0.0.1:${await freePort()}` }, [p]);
    await a.kill();
    await until('A judged down here', async () => (await lonely.status()).endpoints[0].here?.up === false);
    await new Promise((r) => setTimeout(r, 600));
    const s = await lonely.status();
    expect([s.quorum, served(p), p.replaces]).toEqual([false, '127.0.0.21 127.0.0.22', 0]);
    expect(s.peers.every((q) => q.error === 'connection refused')).toBe(true);
  });

  it('refuses a view without the peer token, or with a bad field (named), or claiming its own name', async () => {
    const p = new MemoryProvider();
    const [w] = await trio(p);
    const put = (body: unknown, token?: string) => fetch(`${w.url}/api/v1/peer/view`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    expect((await put({})).status).toBe(401);
    expect((await put({}, 'not-the-token-0123456789')).status).toBe(403);
    const bad = await put({ vantage: 'z', at: new Date().toISOString(), rounds: 1, endpoints: [{ key: 'node-a@127.0.0.21', up: 'yes', since: new Date().toISOString(), last: null }], drains: [] }, PEER_TOKEN);
    expect([bad.status, ((await bad.json()) as { message: string }).message]).toEqual([400, 'endpoints[0].up: must be a boolean']);
    const own = await put({ vantage: 'w', at: new Date().toISOString(), rounds: 1, endpoints: [], drains: [] }, PEER_TOKEN);
    expect(((await own.json()) as { message: string }).message).toMatch(/^vantage: w is this controller's own name/);
  });
});
