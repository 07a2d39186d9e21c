import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LbCheckResult } from '@vita/contracts';
import { HealthCheckConfig } from '../config/config';
import { HealthChecker, type CheckTarget } from './health-checker';

describe('HealthChecker', () => {
  let server: Server;
  let url: string;
  let delayMs = 0;
  const stopped: HealthChecker[] = [];
  beforeAll(async () => {
    server = createServer((_req, res) => setTimeout(() => res.writeHead(200).end('ok'), delayMs));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => stopped.splice(0).forEach((c) => c.stop()));
  afterAll(() => new Promise((r) => server.close(r)));

  const settings = (): HealthCheckConfig => Object.assign(new HealthCheckConfig(), { path: '/health', intervalMs: 50, timeoutMs: 500, jitter: 0 });
  const target = (): CheckTarget => ({ config: { name: 'a1', url, weight: 1 } as CheckTarget['config'], backup: false });
  const checker = (results: LbCheckResult[]) => {
    const c = new HealthChecker(settings(), () => false, (_name, r) => results.push(r));
    stopped.push(c);
    return c;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('keeps checking a backend when the configuration is synced again while its check is in flight', async () => {
    delayMs = 100;
    const results: LbCheckResult[] = [];
    const c = checker(results);
    c.sync(settings(), [target()]);
    // The first check is waiting for its answer; the same backend comes again (a peers poll, a reload).
    await sleep(30);
    c.sync(settings(), [target()]);
    await sleep(700);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('drops the result of a check whose backend changed address while it ran, and checks the new address', async () => {
    delayMs = 100;
    const results: LbCheckResult[] = [];
    const c = checker(results);
    c.sync(settings(), [target()]);
    await sleep(30);
    const moved: CheckTarget = { ...target(), config: { ...target().config, url: 'http://127.0.0.1:1' } };
    c.sync(settings(), [moved]);
    await sleep(400);
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => !r.ok)).toBe(true);
  });
});
