import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { replacementChanges, storedMatches, storedSetsOf, toRecordSet } from './record-sets';

const plain = (Name: string, Type: 'A' | 'AAAA' | 'TXT', TTL: number, values: string[]): ResourceRecordSet => ({
  Name,
  Type,
  TTL,
  ResourceRecords: values.map((Value) => ({ Value })),
});

describe('route53 record sets', () => {
  it('keeps only plain A and AAAA sets of exactly the name', () => {
    const listed = [
      plain('www.example.com.', 'A', 60, ['192.0.2.1']),
      plain('WWW.example.com.', 'AAAA', 30, ['2001:db8::1']),
      plain('www.example.com.', 'TXT', 60, ['"v=1"']),
      plain('www2.example.com.', 'A', 60, ['192.0.2.9']),
    ];
    expect(storedSetsOf('www.example.com', listed)).toEqual({
      A: { values: ['192.0.2.1'], ttl: 60 },
      AAAA: { values: ['2001:db8::1'], ttl: 30 },
    });
  });

  it('refuses alias, routing-policy and health-checked sets of the name, and ignores them for other names', () => {
    const alias: ResourceRecordSet = { Name: 'www.example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z1', DNSName: 'lb.example.net.', EvaluateTargetHealth: false } };
    expect(() => storedSetsOf('www.example.com', [alias])).toThrow('www.example.com A is an alias record (to lb.example.net.)');
    const weighted = { ...plain('www.example.com.', 'AAAA', 60, ['2001:db8::1']), SetIdentifier: 'a', Weight: 1 };
    expect(() => storedSetsOf('www.example.com', [weighted])).toThrow("set identifier 'a'");
    const checked = { ...plain('www.example.com.', 'A', 60, ['192.0.2.1']), HealthCheckId: 'hc-1' };
    expect(() => storedSetsOf('www.example.com', [checked])).toThrow('health check hc-1');
    expect(storedSetsOf('other.example.com', [alias, weighted, checked])).toEqual({});
  });

  it('toRecordSet is canonical and sorted; an absent set has ttl null', () => {
    expect(toRecordSet('AAAA', { values: ['2001:DB8::2', '2001:db8:0:0::1'], ttl: 60 })).toEqual({ values: ['2001:db8::1', '2001:db8::2'], ttl: 60 });
    expect(toRecordSet('A', undefined)).toEqual({ values: [], ttl: null });
  });

  it('storedMatches compares canonical values and the TTL', () => {
    const stored = { values: ['2001:0db8::1'], ttl: 60 };
    expect(storedMatches('AAAA', stored, { values: ['2001:db8::1'], ttl: 60 })).toBe(true);
    expect(storedMatches('AAAA', stored, { values: ['2001:db8::1'], ttl: 61 })).toBe(false);
    expect(storedMatches('AAAA', stored, { values: ['2001:db8::2'], ttl: 60 })).toBe(false);
  });

  it('replacementChanges deletes the exact old set before creating the new one, or only creates', () => {
    expect(replacementChanges('www.example.com', 'A', { values: ['192.0.2.1'], ttl: 300 }, ['192.0.2.2'], 60)).toEqual([
      { Action: 'DELETE', ResourceRecordSet: { Name: 'www.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] } },
      { Action: 'CREATE', ResourceRecordSet: { Name: 'www.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.2' }] } },
    ]);
    expect(replacementChanges('www.example.com', 'A', undefined, ['192.0.2.2'], 60).map((c) => c.Action)).toEqual(['CREATE']);
  });
});
