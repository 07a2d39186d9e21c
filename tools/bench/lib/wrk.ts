import { execFileSync, spawnSync } from 'node:child_process';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface LoadOptions {
  connections?: number;
  seconds?: number;
  threads?: number;
  headers?: Record<string, string>;
}

/** Fails with the install command when wrk is missing. */
export function requireWrk(): void {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk not found: install it with `apt-get install -y wrk` (as root)');
}

const toMs = (value: string, unit: string): number => Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);

/** Benchmarks send traffic to loopback only: anything else is refused before a byte goes out. */
export function requireLoopback(url: string): void {
  if (!/^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/]/.test(url)) throw new Error(`benchmarks only target loopback, not ${url}`);
}

/** What one wrk run printed (with --latency), as figures; throws with the output when it is not wrk's. */
export function parseWrk(out: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`could not read wrk's output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((s, n) => s + Number(n), 0) : 0);
  return { requestsPerSecond: Number(rps[1]), p50Ms: toMs(p50[1], p50[2]), p99Ms: toMs(p99[1], p99[2]), errors };
}

/** One wrk run against a loopback URL (keep-alive; http or https), parsed. */
export function runWrk(url: string, o: LoadOptions = {}): LoadResult {
  requireLoopback(url);
  const args = ['-t', String(o.threads ?? 2), '-c', String(o.connections ?? 64), '-d', `${o.seconds ?? 10}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  return parseWrk(execFileSync('wrk', [...args, url], { encoding: 'utf8', timeout: ((o.seconds ?? 10) + 30) * 1000 }));
}

export interface Contender {
  name: string;
  url: string;
}

/**
 * Measures each contender `rounds` times, interleaved so drift hits all alike, and prints the
 * median figures and the ratio of each to the reference (the first contender). Returns the medians in
 * the contenders' order.
 */
export function compare(contenders: Contender[], rounds: number, o: LoadOptions = {}): LoadResult[] {
  return compareRounds(contenders, rounds, o).medians;
}

/** What compare() measured: the medians, and every round's results (in the contenders' order). */
export interface Comparison {
  medians: LoadResult[];
  rounds: LoadResult[][];
}

/** How compareRounds measures: wrk by default; `unit` names what the rate counts (`req/s`). */
export interface Measure {
  run: (url: string, o: LoadOptions) => LoadResult;
  unit: string;
}

const WRK: Measure = { run: runWrk, unit: 'req/s' };

/** compare(), also returning each round's results (for ratios within a round, measured minutes apart at most). */
export function compareRounds(contenders: Contender[], rounds: number, o: LoadOptions = {}, measure: Measure = WRK): Comparison {
  const perRound: LoadResult[][] = [];
  const runs = new Map<string, LoadResult[]>(contenders.map((c) => [c.name, []]));
  for (const c of contenders) measure.run(c.url, { ...o, seconds: 2 }); // warm-up
  for (let round = 1; round <= rounds; round++) {
    perRound.push([]);
    for (const c of contenders) {
      const r = measure.run(c.url, o);
      runs.get(c.name)?.push(r);
      perRound[round - 1].push(r);
      console.log(`  round ${round} ${c.name.padEnd(28)} ${r.requestsPerSecond.toFixed(0).padStart(8)} ${measure.unit}  p99 ${r.p99Ms.toFixed(2)} ms${r.errors ? `  errors ${r.errors}` : ''}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = new Map<string, LoadResult>();
  for (const [name, rs] of runs) {
    result.set(name, {
      requestsPerSecond: median(rs.map((r) => r.requestsPerSecond)),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      errors: rs.reduce((s, r) => s + r.errors, 0),
    });
  }
  const reference = result.get(contenders[0].name);
  console.log(`\nmedian of ${rounds} rounds, ${o.connections ?? 64} connections, ${o.seconds ?? 10} s each:`);
  console.log(`  ${'target'.padEnd(28)} ${measure.unit.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  ratio`);
  for (const [name, r] of result) {
    const ratio = reference ? r.requestsPerSecond / reference.requestsPerSecond : NaN;
    console.log(`  ${name.padEnd(28)} ${r.requestsPerSecond.toFixed(0).padStart(8)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}  ${(ratio * 100).toFixed(0)}%`);
  }
  return { medians: contenders.map((c) => result.get(c.name) as LoadResult), rounds: perRound };
}
