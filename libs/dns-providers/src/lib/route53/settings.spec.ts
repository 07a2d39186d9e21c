import { ProviderError } from '../provider';
import { resolveSettings, Route53Settings } from './settings';

const base: Route53Settings = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', timeoutMs: 5000 };

function failure(s: Route53Settings): ProviderError {
  try {
    resolveSettings(s);
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected the settings to be refused');
}

describe('route53 settings', () => {
  it('fills in the defaults', () => {
    expect(resolveSettings(base)).toMatchObject({ id: 'route53', region: 'us-east-1', syncTimeoutMs: 120_000, requestsPerSecond: 5, credentials: undefined });
  });

  it('accepts a /hostedzone/ prefix on the zone id', () => {
    expect(resolveSettings({ ...base, hostedZoneId: '/hostedzone/Z0ABC' }).hostedZoneId).toBe('Z0ABC');
  });

  it.each([
    [{ ...base, hostedZoneId: '' }, /^route53 settings: hostedZoneId must be a hosted zone id/],
    [{ ...base, timeoutMs: 0 }, /^route53 settings: timeoutMs must be a positive number \(got 0\)$/],
    [{ ...base, timeoutMs: undefined as unknown as number }, /^route53 settings: timeoutMs is required$/],
    [{ ...base, requestsPerSecond: -1 }, /requestsPerSecond must be a positive number/],
    [{ ...base, region: 'mars' }, /region must be an AWS region/],
    [{ ...base, endpoint: 'ftp://x' }, /endpoint must be an http\(s\) URL/],
    [{ ...base, retry: { attempts: 1.5 } }, /retry\.attempts must be a positive integer/],
    [{ ...base, credentials: { accessKeyId: 'short', secretAccessKey: 'x' } }, /credentials\.accessKeyId must be an access key id/],
    [{ ...base, credentials: { accessKeyId: 'AKIDSTANDIN000000001', secretAccessKey: '' } }, /credentials\.secretAccessKey is required/],
  ])('refuses %o with one line naming the field', (s, message) => {
    const e = failure(s);
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/\n/);
  });

  it('never puts a secret or endpoint credentials in its message', () => {
    const e = failure({ ...base, endpoint: 'https://user:hunter2hunter2@example.com', credentials: { accessKeyId: 'AKIDSTANDIN000000001', secretAccessKey: 'hunter2hunter2' } });
    expect(e.message).toMatch(/endpoint/);
    expect(e.message).not.toContain('hunter2');
  });
});
