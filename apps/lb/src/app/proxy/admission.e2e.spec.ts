import { sleep } from '@vita/mariadb';
import { ADMIN_IDLE_MS, ADMIN_MAX_CONNECTIONS } from '../admin/admin.module';
import { backendsOf, cleanup, closeClients, openClient, type RawClient, send, startTestLb, statusOf, TestBackend, TestLb, waitFor } from '../../test/harness';



describe('lb: client connection limits', () => {
  let a: TestBackend;
  beforeAll(async () => {
    a = await TestBackend.start('a');
  });
  afterAll(cleanup);

  it('closes silent admin connections: a flood of them past the admin cap holds off health probes for seconds, not for good', async () => {
    const lb = await startTestLb({ backends: backendsOf(a) });
    const adminPort = Number(new URL(lb.admin).port);
    const silent: RawClient[] = [];
    try {
      for (let i = 0; i < ADMIN_MAX_CONNECTIONS + 10; i++) silent.push(await openClient(adminPort));
      await waitFor('the admin plane to answer again', async () => ((await fetch(`${lb.admin}/health/live`, { signal: AbortSignal.timeout(500) }).then((r) => r.status, () => 0)) === 200 ? true : undefined), ADMIN_IDLE_MS + 3000);
      expect(silent.filter((c) => !c.closed).length).toBeLessThan(ADMIN_MAX_CONNECTIONS);
    } finally {
      closeClients(silent);
      await lb.stop();
    }
  });

  describe('per worker and per address', () => {
    let lb: TestLb;
    const held: RawClient[] = [];
    beforeAll(async () => {
      lb = await startTestLb({ backends: backendsOf(a), limits: { maxConnections: 20, maxConnectionsPerAddress: 8, maxIdleConnections: 1000 }, timeouts: { clientKeepAliveMs: 60_000 } });
    });
    afterAll(async () => {
      closeClients(held);
      await lb.stop();
    });

    it('refuses a client past its per-address cap with a 503, and others still get in', async () => {
      for (let i = 0; i < 8; i++) held.push(await openClient(lb.port, '127.0.0.2'));
      const over = await openClient(lb.port, '127.0.0.2');
      await waitFor('the refusal', () => (over.closed ? true : undefined), 3000);
      expect(statusOf(over.text)).toBe(503);
      expect(over.text).toContain('too many connections');
      expect(held.every((c) => !c.closed && c.text === '')).toBe(true);
      const other = await openClient(lb.port, '127.0.0.3', 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await waitFor('an answer from another address', () => (other.closed ? true : undefined), 3000);
      expect(statusOf(other.text)).toBe(200);
    });

    it('refuses everyone past the total cap; counts both in /stats and /metrics; takes clients again once some go', async () => {
      for (let i = 0; i < 12; i++) held.push(await openClient(lb.port, `127.0.0.${4 + (i % 3)}`));
      await waitFor('20 connections', async () => ((await lb.stats()).frontend.connections === 20 ? true : undefined), 3000);
      const over = await openClient(lb.port, '127.0.0.9');
      await waitFor('the refusal', () => (over.closed ? true : undefined), 3000);
      expect(statusOf(over.text)).toBe(503);

      const stats = await lb.stats();
      expect(stats.frontend).toMatchObject({ connections: 20, connectionLimit: 20, connectionsRefused: { maxConnections: 1, maxConnectionsPerAddress: 1 } });
      const metrics = (await send(`${lb.admin}/metrics`)).body;
      expect(metrics).toContain('lb_frontend_connections_refused_total{limit="maxConnections"} 1');
      expect(metrics).toContain('lb_frontend_connections_refused_total{limit="maxConnectionsPerAddress"} 1');
      expect(metrics).toContain('lb_frontend_limit_sessions 20');

      closeClients(held.splice(0, 5));
      await waitFor('the connections to go', async () => ((await lb.stats()).frontend.connections === 15 ? true : undefined), 3000);
      expect((await send(`${lb.url}/again`)).status).toBe(200);
    });
  });

  describe('idle connections', () => {
    let lb: TestLb;
    beforeAll(async () => {
      lb = await startTestLb({ backends: backendsOf(a), limits: { maxConnectionsPerAddress: 1000, maxIdleConnections: 16 }, timeouts: { clientKeepAliveMs: 60_000 } });
    });
    afterAll(() => lb.stop());

    it('closes the longest-idle past the idle cap, never a connection with a request in flight', async () => {
      const busy = await openClient(lb.port, '127.0.0.1', 'GET /slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(50);
      const idle: RawClient[] = [];
      for (let i = 0; i < 40; i++) {
        idle.push(await openClient(lb.port));
        if (i === 19) await sleep(100); // the first 20 are older
      }
      await waitFor('the idle cap', () => (idle.filter((c) => c.closed).length === 24 ? true : undefined), 3000);
      await sleep(300);
      // The oldest went: 20 of the first 20, 4 of the later 20; the one with a request in flight stays.
      expect(idle.slice(0, 20).every((c) => c.closed)).toBe(true);
      expect(idle.slice(20).filter((c) => c.closed)).toHaveLength(4);
      expect(busy.closed).toBe(false);
      await waitFor('the slow answer', () => (statusOf(busy.text) === 200 ? true : undefined), 3000);
      expect((await lb.stats()).frontend.idleClosed).toBe(24);
      closeClients([busy, ...idle]);
    });
  });

  describe('with LB_STATS_TOKEN', () => {
    const TOKEN = 'stats-token-for-tests-0123456789';
    let lb: TestLb;
    beforeAll(async () => {
      lb = await startTestLb({ backends: backendsOf(a) }, { LB_STATS_TOKEN: TOKEN });
    });
    afterAll(() => lb.stop());

    it('guards the stats page, /stats and /metrics with the bearer token; health stays open', async () => {
      for (const path of ['/', '/stats', '/metrics']) {
        expect((await send(`${lb.admin}${path}`)).status).toBe(401);
        expect((await send(`${lb.admin}${path}`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(403);
        expect((await send(`${lb.admin}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      }
      const refused = await send(`${lb.admin}/stats`);
      expect(refused.body).toContain('LB_STATS_TOKEN');
      expect(refused.body).not.toContain(TOKEN);
      expect((await send(`${lb.admin}/health/live`)).status).toBe(200);
      expect((await send(`${lb.admin}/health/ready`)).status).toBe(200);
    });
  });
});
