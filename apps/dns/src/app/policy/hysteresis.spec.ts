import type { ProbeResult } from '../model';
import { judge, type Judgement } from './hysteresis';

const probe = (ok: boolean): ProbeResult => ({ ok, at: '2026-12-01T12:00:00.000Z', durationMs: 1 });
const run = (results: boolean[], rules = { fall: 3, rise: 2 }): Judgement[] => {
  const out: Judgement[] = [];
  let j: Judgement | undefined;
  results.forEach((ok, i) => {
    j = judge(j, probe(ok), rules, i);
    out.push(j);
  });
  return out;
};

describe('judge (fall/rise hysteresis)', () => {
  it('takes the first probe as it comes, down or up', () => {
    expect(run([false])[0]).toMatchObject({ up: false, since: 0 });
    expect(run([true])[0]).toMatchObject({ up: true, since: 0 });
  });

  it('judges down after `fall` failures in a row, and up again after `rise` successes in a row', () => {
    expect(run([true, false, false, false, true, true]).map((j) => j.up)).toEqual([true, true, true, false, false, true]);
    const js = run([true, false, false, false, true, true]);
    expect([js[3].since, js[5].since]).toEqual([3, 5]);
  });

  it('starts counting again after a probe that agrees', () => {
    expect(run([true, false, false, true, false, false, true]).every((j) => j.up)).toBe(true);
    expect(run([false, true, false, true, false]).every((j) => !j.up)).toBe(true);
  });

  it('keeps the last probe whatever the judgement', () => {
    const [, second] = run([true, false]);
    expect([second.up, second.last?.ok]).toEqual([true, false]);
  });
});
