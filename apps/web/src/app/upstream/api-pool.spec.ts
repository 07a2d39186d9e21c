import { FakeApi } from '../../test/fake-api';
import { ApiAnswer, ApiPool, MAX_BODY_BYTES } from './api-pool';

describe('the pool of api instances', () => {
  const [a, b] = [new FakeApi({ push: false }), new FakeApi({ push: false })];
  let pool: ApiPool;
  beforeAll(async () => {
    await Promise.all([a.start(), b.start()]);
    a.publish({ basics: { name: 'A' } });
    b.publish({ basics: { name: 'B' } });
  });
  beforeEach(() => (pool = new ApiPool([a.url, b.url], { timeoutMs: 300, retryAfterMs: 60_000 })));
  afterEach(() => {
    pool.close();
    a.rawBody = undefined;
    a.hung = false;
  });
  afterAll(() => Promise.all([a.stop(), b.stop()]));
  const take = (answer: ApiAnswer) => answer;

  it('asks the preferred instance first, then the others in order', async () => {
    expect((await pool.get('/api/v1/resume', 'r1', { accept: take })).from).toBe(a.url);
    expect((await pool.get('/api/v1/resume', 'r2', { prefer: b.url, accept: take })).from).toBe(b.url);
  });

  it('an answer the caller rejects is that instance failing: its circuit opens and the next one is asked', async () => {
    a.rawBody = 'not json';
    const asked = a.requests.length;
    const body = await pool.get('/api/v1/resume', 'r1', {
      accept: (answer) => {
        if (answer.body === 'not json') throw new Error('answered a body that is not JSON');
        return answer.body;
      },
    });
    expect(JSON.parse(body)).toEqual({ basics: { name: 'B' } });
    expect(pool.status()[0]).toEqual({ url: a.url, available: false, lastError: 'answered a body that is not JSON' });
    expect(pool.lastSuccessAt).toBeGreaterThan(0);
    // Preferred or not, an instance whose circuit is open is not asked while another is available.
    expect((await pool.get('/api/v1/resume', 'r2', { prefer: a.url, accept: take })).from).toBe(b.url);
    expect(a.requests.length).toBe(asked + 1);
  });

  it('an answer larger than MAX_BODY_BYTES is cut off and counts as that instance failing', async () => {
    a.rawBody = JSON.stringify({ basics: { name: 'x'.repeat(MAX_BODY_BYTES) } });
    // Time enough to send 8 MiB on a loaded machine: the limit, not the time limit, must cut it off.
    pool = new ApiPool([a.url, b.url], { timeoutMs: 10_000, retryAfterMs: 60_000 });
    const answer = await pool.get('/api/v1/resume', 'r1', { accept: take });
    expect(answer.from).toBe(b.url);
    expect(pool.status()[0]).toEqual({ url: a.url, available: false, lastError: 'answered more than 8 MiB' });
  });

  it('each instance is asked once per call: a hung preferred instance costs one time limit', async () => {
    a.hung = true;
    const asked = a.requests.length;
    const started = Date.now();
    expect((await pool.get('/api/v1/resume', 'r1', { prefer: a.url, accept: take })).from).toBe(b.url);
    // Asked once (not again after its time limit), and the call ended after about one limit of 300 ms:
    // a generous bound, so that a loaded machine does not fail it while a second wait still would.
    expect(a.requests.length).toBe(asked + 1);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
    a.release();
  });
});
