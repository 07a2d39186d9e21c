import { mergeRuns, runHandshakes, shares, type ClientRun } from './handshakes';
import { parseWrk, requireLoopback } from './wrk';

// Real wrk 4.1 output (Debian's package), captured on loopback.
const HTTPS_RUN = `Running 1s test @ https://127.0.0.1:18443/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.18ms    4.18ms  27.87ms   87.26%
    Req/Sec   209.60    108.41   330.00     60.00%
  Latency Distribution
     50%    1.10ms
     75%    4.48ms
     90%    8.14ms
     99%   18.21ms
  211 requests in 1.01s, 12.16KB read
Requests/sec:    208.25
Transfer/sec:     12.00KB
`;

const FAILING_RUN = `Running 1s test @ http://127.0.0.1:18998/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.76ms    2.78ms  18.66ms   87.92%
    Req/Sec     1.17k   447.54     1.78k    70.00%
  Latency Distribution
     50%  499.00us
     75%    2.09ms
     90%    5.13ms
     99%   13.78ms
  1172 requests in 1.01s, 151.65KB read
  Socket errors: connect 0, read 586, write 0, timeout 0
  Non-2xx or 3xx responses: 586
Requests/sec:   1155.50
Transfer/sec:    149.52KB
`;

describe('parseWrk', () => {
  it('reads the rate and the percentiles, in ms whatever unit wrk printed', () => {
    expect(parseWrk(HTTPS_RUN)).toEqual({ requestsPerSecond: 208.25, p50Ms: 1.1, p99Ms: 18.21, errors: 0 });
    expect(parseWrk(FAILING_RUN).p50Ms).toBeCloseTo(0.499, 6);
  });

  it('counts socket errors and non-2xx/3xx answers as errors', () => {
    expect(parseWrk(FAILING_RUN).errors).toBe(586 + 586);
  });

  it('refuses output that is not a wrk run, quoting it', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:18999 Connection refused')).toThrow(/could not read wrk's output:\nunable to connect/);
  });
});

describe('requireLoopback', () => {
  it('lets http and https loopback URLs through', () => {
    for (const url of ['http://127.0.0.1:8080/', 'https://127.0.0.1:8443/', 'https://localhost:8443/x', 'https://[::1]:8443/']) expect(() => requireLoopback(url)).not.toThrow();
  });

  it('refuses anything else, before a byte goes out', () => {
    for (const url of ['https://example.org/', 'https://127.0.0.1.example.org/', 'http://10.0.0.1:80/', 'ftp://127.0.0.1/']) expect(() => requireLoopback(url)).toThrow(/only target loopback/);
    expect(() => runHandshakes('https://192.0.2.1:443/', { servername: 'localhost', ca: '/nonexistent' })).toThrow(/only target loopback/);
  });
});

const run = (done: number, elapsedMs: number, latenciesMs: number[], extra: Partial<ClientRun> = {}): ClientRun => ({ done, resumed: 0, failed: 0, elapsedMs, latenciesMs, ...extra });

describe('mergeRuns', () => {
  it('rates all completed connections over the longest process run, percentiles over all latencies', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
    const merged = mergeRuns([run(60, 2000, latencies.slice(0, 60)), run(40, 2500, latencies.slice(60), { failed: 3, resumed: 1 })]);
    expect(merged.requestsPerSecond).toBe(100 / 2.5);
    expect(merged.p50Ms).toBe(50);
    expect(merged.p99Ms).toBe(99);
    expect(merged.errors).toBe(3);
    expect(merged.resumed).toBe(1);
  });

  it('fails when no connection completed, saying how many failed', () => {
    expect(() => mergeRuns([run(0, 1000, [], { failed: 7 }), run(0, 1000, [], { failed: 2 })])).toThrow('no connection completed (9 failed)');
  });
});

describe('shares', () => {
  it('spreads connections over processes, the remainder to the first, never an empty process', () => {
    expect(shares(16, 2)).toEqual([8, 8]);
    expect(shares(7, 3)).toEqual([3, 2, 2]);
    expect(shares(1, 3)).toEqual([1]);
  });
});
