import { frameTcp, takeTcpFrame } from './transport';
import {
  CLASS,
  decodeAddress,
  decodeMessage,
  decodeName,
  decodeSoa,
  decodeTxt,
  encodeAddress,
  encodeMessage,
  encodeName,
  encodeTxt,
  Message,
  OPCODE,
  queryMessage,
  rcodeName,
  replaceUpdateMessage,
  TYPE,
  txtUpdateMessage,
  WireError,
} from './wire';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('DNS wire format (pure)', () => {
  it('encodes a query exactly as RFC 1035 lays it out (bytes written by hand)', () => {
    const wire = encodeMessage(queryMessage(0x1234, 'www.vita.test', TYPE.A));
    // id 1234, flags 0000 (QUERY, RD=0), QD=1, AN=NS=AR=0, 3www4vita4test0, type 1, class 1
    expect(wire).toEqual(hex('1234 0000 0001 0000 0000 0000 03777777 0476697461 0474657374 00 0001 0001'));
  });

  it('a message round-trips through encode and decode (query and update)', () => {
    const q = queryMessage(7, 'vita.test', TYPE.SOA);
    const dq = decodeMessage(encodeMessage(q));
    expect({ ...dq, additionalOffsets: undefined }).toEqual({ ...q, additionalOffsets: undefined });
    const u = replaceUpdateMessage({ id: 65535, zone: 'vita.test', name: 'www.vita.test', type: 'AAAA', from: ['2001:db8::1'], to: ['2001:db8::2', '2001:db8::3'], ttl: 60 });
    const du = decodeMessage(encodeMessage(u));
    expect(du.header).toEqual(u.header);
    expect(du.questions).toEqual(u.questions);
    expect(du.answers).toEqual(u.answers);
    expect(du.authorities).toEqual(u.authorities);
  });

  it('header flags round-trip one by one', () => {
    const base = queryMessage(1, 'a.test', TYPE.A);
    for (const flag of ['qr', 'aa', 'tc', 'rd', 'ra'] as const) {
      const m: Message = { ...base, header: { ...base.header, [flag]: true } };
      expect(decodeMessage(encodeMessage(m)).header).toEqual(m.header);
    }
    const r: Message = { ...base, header: { ...base.header, opcode: OPCODE.UPDATE, rcode: 8 } };
    expect(decodeMessage(encodeMessage(r)).header).toEqual(r.header);
    expect(encodeMessage(r).readUInt16BE(2)).toBe((5 << 11) | 8);
  });

  it('the replace UPDATE: zone section SOA/IN; prerequisite per old value (IN, TTL 0); delete RRset (ANY, TTL 0, no RDATA); adds (IN, ttl)', () => {
    const u = replaceUpdateMessage({ id: 1, zone: 'vita.test', name: 'www.vita.test', type: 'A', from: ['192.0.2.1', '192.0.2.2'], to: ['192.0.2.3'], ttl: 30 });
    expect(u.header.opcode).toBe(5);
    expect(u.questions).toEqual([{ name: 'vita.test', type: 6, class: 1 }]);
    expect(u.answers).toEqual([
      { name: 'www.vita.test', type: 1, class: 1, ttl: 0, rdata: Buffer.from([192, 0, 2, 1]) },
      { name: 'www.vita.test', type: 1, class: 1, ttl: 0, rdata: Buffer.from([192, 0, 2, 2]) },
    ]);
    expect(u.authorities).toEqual([
      { name: 'www.vita.test', type: 1, class: 255, ttl: 0, rdata: Buffer.alloc(0) },
      { name: 'www.vita.test', type: 1, class: 1, ttl: 30, rdata: Buffer.from([192, 0, 2, 3]) },
    ]);
    const none = replaceUpdateMessage({ id: 1, zone: 'vita.test', name: 'www.vita.test', type: 'AAAA', from: [], to: ['::1'], ttl: 30 });
    expect(none.answers).toEqual([{ name: 'www.vita.test', type: 28, class: 254, ttl: 0, rdata: Buffer.alloc(0) }]);
    expect(CLASS.NONE).toBe(254);
  });

  it('TXT RDATA: length-prefixed character-strings (bytes written by hand), round-trip; over 255 bytes or none is refused', () => {
    expect(encodeTxt(['ab', ''])).toEqual(hex('02 6162 00'));
    expect(decodeTxt(encodeTxt(['x'.repeat(255), 'y']))).toEqual(['x'.repeat(255), 'y']);
    expect(() => encodeTxt(['x'.repeat(256)])).toThrow(WireError);
    expect(() => encodeTxt([])).toThrow(WireError);
    expect(() => decodeTxt(hex('05 6162'))).toThrow(/truncated/);
  });

  it('the TXT UPDATEs: add one record (IN, ttl) or delete just that record (NONE, TTL 0), no prerequisites', () => {
    const add = decodeMessage(encodeMessage(txtUpdateMessage({ id: 9, zone: 'vita.test', name: '_acme-challenge.www.vita.test', action: 'add', strings: ['abc'], ttl: 60 })));
    expect(add.header).toMatchObject({ id: 9, opcode: OPCODE.UPDATE });
    expect(add.questions).toEqual([{ name: 'vita.test', type: TYPE.SOA, class: CLASS.IN }]);
    expect(add.answers).toEqual([]);
    expect(add.authorities).toEqual([{ name: '_acme-challenge.www.vita.test', type: TYPE.TXT, class: CLASS.IN, ttl: 60, rdata: hex('03 616263') }]);
    const del = decodeMessage(encodeMessage(txtUpdateMessage({ id: 10, zone: 'vita.test', name: '_acme-challenge.www.vita.test', action: 'delete', strings: ['abc'], ttl: 60 })));
    expect(del.authorities).toEqual([{ name: '_acme-challenge.www.vita.test', type: TYPE.TXT, class: CLASS.NONE, ttl: 0, rdata: hex('03 616263') }]);
  });

  it('names: escapes round-trip, the root is empty, case is kept unless lower is asked for', () => {
    for (const n of ['', 'a', 'Www.Vita.Test', 'a\\.b.test', 'x\\\\y.test', 'sp\\032ace.test']) {
      expect(decodeName(encodeName(n), 0)).toEqual({ name: n, next: encodeName(n).length });
    }
    expect(encodeName('A.B', true)).toEqual(hex('01 61 01 62 00'));
    expect(encodeName('vita.test.')).toEqual(encodeName('vita.test'));
  });

  it('names: a label over 63 bytes, a name over 255 bytes, empty labels and unescaped spaces are refused', () => {
    expect(() => encodeName(`${'a'.repeat(64)}.test`)).toThrow('a label is longer than 63 bytes');
    expect(() => encodeName(Array(64).fill('abc').join('.'))).toThrow('longer than 255 bytes');
    expect(() => encodeName('a..test')).toThrow('empty label');
    expect(() => encodeName('a b.test')).toThrow('must be escaped');
  });

  it('decompression: a pointer back to an earlier name is followed; next is after the pointer', () => {
    // offset 0: 4vita4test0 (11 bytes); offset 11: 3www + pointer to 0
    const buf = Buffer.concat([encodeName('vita.test'), hex('03777777 c000')]);
    expect(decodeName(buf, 11)).toEqual({ name: 'www.vita.test', next: 17 });
    // a chain of pointers: offset 17 points to 11
    const chained = Buffer.concat([buf, hex('c00b')]);
    expect(decodeName(chained, 17)).toEqual({ name: 'www.vita.test', next: 19 });
  });

  it('decompression: a pointer loop (to itself, or forward into a cycle) is rejected', () => {
    expect(() => decodeName(hex('c000'), 0)).toThrow(/compression pointer at 0 to 0 does not point backwards \(a loop\)/);
    // 0: 1a + pointer to 4; 4: 1b + pointer to 0  -> a <-> b cycle
    expect(() => decodeName(hex('0161 c004 0162 c000'), 0)).toThrow(/does not point backwards/);
    expect(() => decodeName(hex('80'), 0)).toThrow(/label type 0x80/);
  });

  it('decompression inside a whole message: compressed answer and SOA RDATA are read', () => {
    // A response for vita.test SOA whose answer owner and SOA names are pointers into the question.
    const header = hex('abcd 8400 0001 0001 0000 0000');
    const question = Buffer.concat([encodeName('vita.test'), hex('0006 0001')]); // starts at 12
    const soaRdata = Buffer.concat([hex('026e73 c00c'), hex('0a686f73746d6173746572 c00c'), hex('00000007 00000e10 00000258 00015180 0000003c')]);
    const answer = Buffer.concat([hex('c00c 0006 0001 0000012c'), Buffer.from([0, soaRdata.length]), soaRdata]);
    const m = decodeMessage(Buffer.concat([header, question, answer]));
    expect(m.header).toMatchObject({ id: 0xabcd, qr: true, aa: true, rcode: 0 });
    expect(m.answers[0]).toMatchObject({ name: 'vita.test', type: 6, ttl: 300 });
    expect(decodeSoa(m.answers[0].rdata)).toEqual({ mname: 'ns.vita.test', rname: 'hostmaster.vita.test', serial: 7, refresh: 3600, retry: 600, expire: 86400, minimum: 60 });
  });

  it('truncated input is rejected with a clear error at every length', () => {
    const u = encodeMessage(replaceUpdateMessage({ id: 9, zone: 'vita.test', name: 'www.vita.test', type: 'A', from: ['192.0.2.1'], to: ['192.0.2.2'], ttl: 60 }));
    for (let len = 0; len < u.length; len++) {
      expect(() => decodeMessage(u.subarray(0, len))).toThrow(WireError);
      expect(() => decodeMessage(u.subarray(0, len))).toThrow(/^truncated message: .+ needs \d+ bytes at offset \d+, message is \d+ bytes$/);
    }
    expect(() => decodeMessage(Buffer.concat([u, Buffer.from([0])]))).toThrow('message has 1 bytes after its last record');
  });

  it('addresses: A and AAAA RDATA round-trip; AAAA text is RFC 5952 (the URL parser as oracle); junk is refused', () => {
    expect(encodeAddress('A', '192.0.2.10')).toEqual(Buffer.from([192, 0, 2, 10]));
    expect(decodeAddress('A', Buffer.from([10, 0, 0, 255]))).toBe('10.0.0.255');
    expect(encodeAddress('AAAA', '2001:db8::1')).toEqual(hex('20010db8 00000000 00000000 00000001'));
    for (const v of ['::', '::1', '1::', '2001:DB8:0:0:1:0:0:1', '2001:db8:0:0:0:0:2:1', 'fe80::1:2:3:4', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8']) {
      expect(decodeAddress('AAAA', encodeAddress('AAAA', v))).toBe(new URL(`http://[${v}]`).hostname.slice(1, -1));
    }
    expect(decodeAddress('AAAA', hex('20010db8 00000000 00010000 00000001'))).toBe('2001:db8::1:0:0:1');
    expect(() => encodeAddress('A', '256.0.0.1')).toThrow('"256.0.0.1" is not an IPv4 address');
    expect(() => encodeAddress('AAAA', '192.0.2.1')).toThrow('is not an IPv6 address');
    expect(() => decodeAddress('A', Buffer.alloc(5))).toThrow('A RDATA is 5 bytes, not 4');
  });

  it('rcodeName knows the RFC 2136 and TSIG codes', () => {
    expect([7, 8, 9, 10, 16, 17, 18].map(rcodeName)).toEqual(['YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'BADSIG', 'BADKEY', 'BADTIME']);
    expect(rcodeName(15)).toBe('RCODE15');
  });

  it('TCP framing: a two-byte length prefix; partial input waits, extra input is kept', () => {
    const m = Buffer.from('hello');
    expect(frameTcp(m)).toEqual(hex('0005 68656c6c6f'));
    const two = Buffer.concat([frameTcp(m), frameTcp(Buffer.from('x'))]);
    for (let i = 0; i < 7; i++) expect(takeTcpFrame(two.subarray(0, i))).toBeUndefined();
    expect(takeTcpFrame(two)).toEqual({ frame: m, rest: frameTcp(Buffer.from('x')) });
    expect(() => frameTcp(Buffer.alloc(65536))).toThrow('at most 65535 bytes');
  });
});
