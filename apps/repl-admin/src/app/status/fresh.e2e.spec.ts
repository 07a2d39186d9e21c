import { sleep } from '@vita/mariadb';
import { type ReplAdminHarness, startReplAdmin } from '../../test/repl-admin';

type Row = Record<string, unknown>;

/** `GET /api/v1/topology?fresh=1` needs no token: a flood of them must cost the servers nothing extra. */
describe('repl-admin: fresh reads coalesced and rate-limited (real primary and replicas)', () => {
  let h: ReplAdminHarness;

  beforeAll(async () => {
    h = await startReplAdmin({ REPL_POLL_INTERVAL_MS: '3000', REPL_FRESH_MIN_INTERVAL_MS: '1000' });
  });
  afterAll(() => h?.close());

  /** repl_admin_checks_total by trigger. */
  const checks = async (): Promise<Record<string, number>> => {
    const text = await fetch(`${h.url}/metrics`).then((r) => r.text());
    return Object.fromEntries([...text.matchAll(/^repl_admin_checks_total\{trigger="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  };
  /** SHOW REPLICA STATUS statements the replica has run (one per check). */
  const statusQueries = async (i: number): Promise<number> =>
    Number((await h.t.replicas[i].query<Row[]>("SHOW GLOBAL STATUS LIKE 'Com_show_slave_status'"))[0]['Value']);
  const freshRead = async () => {
    const res = await fetch(`${h.url}/api/v1/topology?fresh=1`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, check: res.headers.get('x-check'), checkedAt: ((await res.json()) as { checkedAt: string }).checkedAt };
  };

  it('50 concurrent fresh reads start one check between them', async () => {
    await sleep(1200); // past the window of any earlier fresh read
    const [before, q1, q2] = await Promise.all([checks(), statusQueries(0), statusQueries(1)]);
    const reads = await Promise.all(Array.from({ length: 50 }, freshRead));
    const [after, r1, r2] = await Promise.all([checks(), statusQueries(0), statusQueries(1)]);

    expect(reads.every((r) => r.status === 200)).toBe(true);
    // One started it (or found the one the poll had just started); the rest joined it or took it once done.
    expect(reads.filter((r) => r.check === 'new').length).toBeLessThanOrEqual(1);
    expect(reads.every((r) => ['new', 'joined', 'recent'].includes(r.check ?? ''))).toBe(true);
    expect(new Set(reads.map((r) => r.checkedAt)).size).toBeLessThanOrEqual(2);
    const fresh = (after['fresh'] ?? 0) - (before['fresh'] ?? 0);
    const all = Object.keys(after).reduce((sum, k) => sum + after[k] - (before[k] ?? 0), 0);
    expect(fresh).toBeLessThanOrEqual(1);
    // What the servers saw: one SHOW REPLICA STATUS per check (the poll's included), not 50.
    expect(r1 - q1).toBeLessThanOrEqual(all);
    expect(r2 - q2).toBeLessThanOrEqual(all);
    expect(all).toBeLessThanOrEqual(2);
  });

  it('a stream of fresh reads starts at most one check per REPL_FRESH_MIN_INTERVAL_MS; later reads say they got the newest', async () => {
    const before = await checks();
    const started = Date.now();
    const seen: (string | null)[] = [];
    while (Date.now() - started < 2500) seen.push((await freshRead()).check);
    const after = await checks();
    const fresh = (after['fresh'] ?? 0) - (before['fresh'] ?? 0);
    // 2.5 s with a 1 s window: at most 3 checks for hundreds of reads.
    expect(seen.length).toBeGreaterThan(20);
    expect(fresh).toBeLessThanOrEqual(3);
    expect(seen.filter((c) => c === 'recent').length).toBeGreaterThan(seen.length / 2);
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^repl_admin_fresh_reads_total\{answer="recent"\} \d+$/m);
  });
});
