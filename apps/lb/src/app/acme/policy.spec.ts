import { backoffDelay, DAY_MS, isProblem, MAX_TIMER_MS, nextCheckDelay, oneLine, renewalPoint, renewReason } from './policy';

const nb = new Date('2026-01-01T00:00:00Z');
const na = new Date(nb.getTime() + 90 * DAY_MS);
const cert = { notBefore: nb, notAfter: na, names: ['www.vita.test', 'alt.vita.test'] };

describe('renewal policy', () => {
  it('renews at renewAt of the lifetime, earlier by at most the jitter', () => {
    expect(renewalPoint(cert, 2 / 3, 0, 0.5).getTime()).toBe(nb.getTime() + 60 * DAY_MS);
    expect(renewalPoint(cert, 2 / 3, 0.05, 0).getTime()).toBe(nb.getTime() + 60 * DAY_MS);
    expect(renewalPoint(cert, 2 / 3, 0.05, 0.999).getTime()).toBeGreaterThan(nb.getTime() + 55.4 * DAY_MS);
  });

  it('orders when missing, missing a name, due or expired; not otherwise', () => {
    const point = new Date(nb.getTime() + 60 * DAY_MS);
    expect(renewReason(undefined, ['www.vita.test'], nb, undefined)).toBe('missing');
    expect(renewReason(cert, ['WWW.vita.test', 'new.vita.test'], nb, point)).toBe('names');
    expect(renewReason(cert, ['alt.vita.test', 'www.vita.test'], new Date(nb.getTime() + DAY_MS), point)).toBeUndefined();
    expect(renewReason(cert, ['www.vita.test'], point, point)).toBe('due');
    expect(renewReason(cert, ['www.vita.test'], na, point)).toBe('expired');
  });

  it('backs off exponentially, bounded', () => {
    expect(backoffDelay(1, 1_000, 60_000, 0)).toBe(1_000);
    expect(backoffDelay(2, 1_000, 60_000, 0)).toBe(2_000);
    expect(backoffDelay(3, 1_000, 60_000, 0)).toBe(4_000);
    expect(backoffDelay(50, 1_000, 60_000, 0)).toBe(60_000);
    expect(backoffDelay(50, 1_000, 60_000, 1)).toBe(48_000);
    expect(backoffDelay(1, 1_000, 60_000, 1)).toBe(1_000); // never below the minimum
  });

  it('raises a problem only while failing within problemDays of expiry, or with no certificate', () => {
    expect(isProblem(cert, false, new Date(na.getTime() - DAY_MS), 14)).toBe(false);
    expect(isProblem(cert, true, new Date(na.getTime() - 15 * DAY_MS), 14)).toBe(false);
    expect(isProblem(cert, true, new Date(na.getTime() - 14 * DAY_MS), 14)).toBe(true);
    expect(isProblem(undefined, true, nb, 14)).toBe(true);
  });

  it('checks next at the renewal point, at least every checkEveryMs, within a Node timer', () => {
    expect(nextCheckDelay(new Date(nb.getTime() + 1_000), nb, 60_000)).toBe(1_000);
    expect(nextCheckDelay(new Date(nb.getTime() - 1_000), nb, 60_000)).toBe(0);
    expect(nextCheckDelay(new Date(nb.getTime() + 60 * DAY_MS), nb, 60 * DAY_MS)).toBe(MAX_TIMER_MS);
  });

  it('flattens errors to one bounded line and drops PEM blocks', () => {
    expect(oneLine('a\n  b\tc')).toBe('a b c');
    expect(oneLine('bad -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end')).toBe('bad [pem redacted] end');
    expect(oneLine('x'.repeat(500)).length).toBe(300);
  });
});
