import { errantGtids, formatGtids, parseGtids, purgedPast } from './gtid';

describe('GTID positions', () => {
  it('parses and formats MariaDB GTID lists, sequence numbers beyond 2^53 included', () => {
    expect(parseGtids(' 0-1-100, 1-2-18446744073709551615 ')).toEqual([
      { domain: 0, server: 1, seq: 100n },
      { domain: 1, server: 2, seq: 18446744073709551615n },
    ]);
    expect(parseGtids('')).toEqual([]);
    expect(parseGtids(null)).toEqual([]);
    expect(formatGtids(parseGtids('0-1-5,2-3-4'))).toBe('0-1-5,2-3-4');
    expect(() => parseGtids('0-1')).toThrow(/not a GTID/);
  });

  it('a position before the oldest binlog, per domain, is purged', () => {
    expect(purgedPast('0-1-100', '0-1-90')).toEqual([]);
    expect(purgedPast('0-1-90', '0-1-90')).toEqual([]);
    expect(formatGtids(purgedPast('0-1-80', '0-1-90'))).toBe('0-1-90');
    expect(formatGtids(purgedPast('0-1-100', '0-1-90,1-5-3'))).toBe('1-5-3'); // a domain the replica never saw
    expect(purgedPast('0-1-100', '')).toEqual([]); // nothing purged yet
  });

  it('errant: a GTID of the replica the primary lacks (own server id, unknown domain, or ahead)', () => {
    const primaryState = '0-1-100,0-3-40';
    expect(errantGtids('0-1-100', primaryState, '0-1-100')).toEqual([]);
    expect(errantGtids('0-1-90,0-3-40', primaryState, '0-1-100')).toEqual([]); // behind, from a former primary: fine
    expect(formatGtids(errantGtids('0-1-100,0-2-101', primaryState, '0-1-100'))).toBe('0-2-101');
    expect(formatGtids(errantGtids('0-1-100,7-2-1', primaryState, '0-1-100'))).toBe('7-2-1');
    expect(formatGtids(errantGtids('0-1-105', primaryState, '0-1-100'))).toBe('0-1-105');
  });
});
