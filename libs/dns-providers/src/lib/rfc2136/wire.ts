/**
 * DNS wire format (RFC 1035, RFC 2136 sections, RFC 3596 AAAA, TXT): pure encode/decode of whole messages.
 * Names are written uncompressed; compressed names are read (pointers must point backwards).
 */
import { isIPv4, isIPv6 } from 'node:net';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, TSIG: 250, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
  BADCOOKIE: 23,
} as const;

/** The mnemonic of an RCODE or TSIG error (`RCODE15` when unknown). */
export function rcodeName(code: number): string {
  return Object.entries(RCODE).find(([, v]) => v === code)?.[0] ?? `RCODE${code}`;
}

/** Malformed wire data (or an unencodable value); the message says what and where. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export interface Header {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
}

/** A question; in an UPDATE, the zone section (type SOA). */
export interface Question {
  name: string;
  type: number;
  class: number;
}

/** A resource record with its RDATA as bytes (names inside SOA/NS/CNAME/PTR/MX RDATA are decompressed by decodeMessage). */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata: Buffer;
}

/** A message; for an UPDATE the sections are zone, prerequisite, update, additional (RFC 2136 §2). */
export interface Message {
  header: Header;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export interface DecodedMessage extends Message {
  /** Where each additional record starts in the decoded bytes (TSIG verification needs the message before it). */
  additionalOffsets: number[];
}

const MAX_NAME = 255;

/** The labels of a text name (no trailing dot needed; `\.`, `\\` and `\DDD` escapes), validated. */
function labelsOf(name: string): Buffer[] {
  const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  if (text === '') return [];
  const labels: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '.') {
      labels.push(Buffer.from(cur));
      cur = [];
    } else if (c === '\\') {
      const ddd = /^\d{3}/.exec(text.slice(i + 1))?.[0];
      if (ddd !== undefined && Number(ddd) <= 255) {
        cur.push(Number(ddd));
        i += 3;
      } else if (i + 1 < text.length) {
        cur.push(text.charCodeAt(++i));
      } else throw new WireError(`name ${JSON.stringify(name)}: trailing backslash`);
    } else {
      const code = text.charCodeAt(i);
      if (code > 0x7e || code < 0x21) throw new WireError(`name ${JSON.stringify(name)}: character ${JSON.stringify(c)} must be escaped`);
      cur.push(code);
    }
  }
  labels.push(Buffer.from(cur));
  for (const l of labels) {
    if (l.length === 0) throw new WireError(`name ${JSON.stringify(name)}: empty label`);
    if (l.length > 63) throw new WireError(`name ${JSON.stringify(name)}: a label is longer than 63 bytes`);
  }
  return labels;
}

/** A name in wire format, uncompressed (`lower`: in canonical lower case, as TSIG needs). */
export function encodeName(name: string, lower = false): Buffer {
  const parts: Buffer[] = [];
  for (const l of labelsOf(name)) parts.push(Buffer.from([l.length]), lower ? Buffer.from(l.toString('latin1').toLowerCase(), 'latin1') : l);
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > MAX_NAME) throw new WireError(`name ${JSON.stringify(name)}: longer than 255 bytes`);
  return out;
}

const labelText = (l: Buffer): string =>
  [...l].map((b) => (b === 0x2e || b === 0x5c ? `\\${String.fromCharCode(b)}` : b < 0x21 || b > 0x7e ? `\\${String(b).padStart(3, '0')}` : String.fromCharCode(b))).join('');

/** Bounds check: `need` bytes at `offset`, else a WireError naming `what`. */
function need(buf: Buffer, offset: number, n: number, what: string): void {
  if (offset + n > buf.length) throw new WireError(`truncated message: ${what} needs ${n} bytes at offset ${offset}, message is ${buf.length} bytes`);
}

/**
 * Reads a possibly compressed name at `offset`: its text (no trailing dot, `''` for the root) and the offset after it.
 * A pointer must point before the pointer itself (so no loop can be followed), and the name must fit 255 bytes.
 */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next: number | undefined;
  let length = 1;
  for (;;) {
    need(buf, pos, 1, 'a name');
    const len = buf[pos];
    if ((len & 0xc0) === 0xc0) {
      need(buf, pos, 2, 'a compression pointer');
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (target >= pos) throw new WireError(`name at offset ${offset}: compression pointer at ${pos} to ${target} does not point backwards (a loop)`);
      next ??= pos + 2;
      pos = target;
    } else if ((len & 0xc0) !== 0) {
      throw new WireError(`name at offset ${offset}: label type 0x${(len & 0xc0).toString(16)} at ${pos} is not supported`);
    } else if (len === 0) {
      return { name: labels.join('.'), next: next ?? pos + 1 };
    } else {
      need(buf, pos + 1, len, 'a label');
      length += len + 1;
      if (length > MAX_NAME) throw new WireError(`name at offset ${offset}: longer than 255 bytes`);
      labels.push(labelText(buf.subarray(pos + 1, pos + 1 + len)));
      pos += len + 1;
    }
  }
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

function encodeFlags(h: Header): number {
  return (Number(h.qr) << 15) | ((h.opcode & 0xf) << 11) | (Number(h.aa) << 10) | (Number(h.tc) << 9) | (Number(h.rd) << 8) | (Number(h.ra) << 7) | (h.rcode & 0xf);
}

function encodeRecord(r: ResourceRecord): Buffer {
  if (r.rdata.length > 0xffff) throw new WireError(`record ${r.name}: RDATA longer than 65535 bytes`);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.class, 2);
  fixed.writeUInt32BE(r.ttl >>> 0, 4);
  fixed.writeUInt16BE(r.rdata.length, 8);
  return Buffer.concat([encodeName(r.name), fixed, r.rdata]);
}

/** A whole message in wire format (no compression). */
export function encodeMessage(m: Message): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.header.id & 0xffff, 0);
  header.writeUInt16BE(encodeFlags(m.header), 2);
  const sections = [m.questions, m.answers, m.authorities, m.additionals];
  sections.forEach((s, i) => {
    if (s.length > 0xffff) throw new WireError('a section has more than 65535 entries');
    header.writeUInt16BE(s.length, 4 + 2 * i);
  });
  return Buffer.concat([
    header,
    ...m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)])),
    ...[...m.answers, ...m.authorities, ...m.additionals].map(encodeRecord),
  ]);
}

/** RDATA with the names it holds (by type) written out uncompressed, so it can be read on its own. */
function expandRdata(buf: Buffer, type: number, start: number, end: number): Buffer {
  const names = (count: number, tail: number, lead = 0): Buffer => {
    const parts: Buffer[] = [buf.subarray(start, start + lead)];
    let pos = start + lead;
    for (let i = 0; i < count; i++) {
      const { name, next } = decodeName(buf, pos);
      if (next > end) throw new WireError(`truncated message: a name in RDATA at offset ${pos} runs past its RDLENGTH`);
      parts.push(encodeName(name));
      pos = next;
    }
    if (pos + tail !== end) throw new WireError(`record at offset ${start}: RDATA is ${end - start} bytes, which does not fit type ${type}`);
    parts.push(buf.subarray(pos, end));
    return Buffer.concat(parts);
  };
  switch (type) {
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
      return names(1, 0);
    case TYPE.MX:
      need(buf, start, 2, 'MX preference');
      return names(1, 0, 2);
    case TYPE.SOA:
      return names(2, 20);
    default:
      return Buffer.from(buf.subarray(start, end));
  }
}

/** Decodes a whole message; truncated or malformed input throws a WireError saying where. */
export function decodeMessage(buf: Buffer): DecodedMessage {
  need(buf, 0, 12, 'the header');
  const flags = buf.readUInt16BE(2);
  const header: Header = {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
  };
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, next } = decodeName(buf, pos);
    need(buf, next, 4, 'a question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const additionalOffsets: number[] = [];
  const readRecords = (count: number, additional: boolean): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      if (additional) additionalOffsets.push(pos);
      const { name, next } = decodeName(buf, pos);
      need(buf, next, 10, 'a record header');
      const type = buf.readUInt16BE(next);
      const rdlength = buf.readUInt16BE(next + 8);
      need(buf, next + 10, rdlength, 'RDATA');
      const start = next + 10;
      out.push({ name, type, class: buf.readUInt16BE(next + 2), ttl: buf.readUInt32BE(next + 4), rdata: expandRdata(buf, type, start, start + rdlength) });
      pos = start + rdlength;
    }
    return out;
  };
  const answers = readRecords(counts[1], false);
  const authorities = readRecords(counts[2], false);
  const additionals = readRecords(counts[3], true);
  if (pos !== buf.length) throw new WireError(`message has ${buf.length - pos} bytes after its last record (offset ${pos})`);
  return { header, questions, answers, authorities, additionals, additionalOffsets };
}

/** The canonical text of an IPv6 address (RFC 5952: lower case, longest zero run as `::`). */
export const canonicalIPv6 = (text: string): string => new URL(`http://[${text}]`).hostname.slice(1, -1);

/** The RDATA of an A or AAAA record from its text; a WireError when it is not such an address. */
export function encodeAddress(type: 'A' | 'AAAA', text: string): Buffer {
  if (type === 'A') {
    if (!isIPv4(text)) throw new WireError(`${JSON.stringify(text)} is not an IPv4 address`);
    return Buffer.from(text.split('.').map(Number));
  }
  if (!isIPv6(text)) throw new WireError(`${JSON.stringify(text)} is not an IPv6 address`);
  const [head, tail] = canonicalIPv6(text).split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.concat(all.map(u16));
}

/** The canonical text of A (4 bytes) or AAAA (16 bytes) RDATA. */
export function decodeAddress(type: 'A' | 'AAAA', rdata: Buffer): string {
  if (type === 'A') {
    if (rdata.length !== 4) throw new WireError(`A RDATA is ${rdata.length} bytes, not 4`);
    return [...rdata].join('.');
  }
  if (rdata.length !== 16) throw new WireError(`AAAA RDATA is ${rdata.length} bytes, not 16`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(rdata.readUInt16BE(i).toString(16));
  return canonicalIPv6(groups.join(':'));
}

export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** SOA RDATA as decodeMessage leaves it (names uncompressed). */
export function decodeSoa(rdata: Buffer): Soa {
  const m = decodeName(rdata, 0);
  const r = decodeName(rdata, m.next);
  need(rdata, r.next, 20, 'SOA counters');
  if (r.next + 20 !== rdata.length) throw new WireError(`SOA RDATA has ${rdata.length - r.next - 20} bytes too many`);
  const n = (i: number) => rdata.readUInt32BE(r.next + 4 * i);
  return { mname: m.name, rname: r.name, serial: n(0), refresh: n(1), retry: n(2), expire: n(3), minimum: n(4) };
}

/** A query for one name and type, recursion not desired (RD=0). */
export function queryMessage(id: number, name: string, type: number): Message {
  return {
    header: { id, qr: false, opcode: OPCODE.QUERY, aa: false, tc: false, rd: false, ra: false, rcode: 0 },
    questions: [{ name, type, class: CLASS.IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

export interface ReplaceUpdate {
  id: number;
  zone: string;
  name: string;
  type: 'A' | 'AAAA';
  /** The set the server must still serve ([]: the set must not exist). */
  from: string[];
  /** The new set. */
  to: string[];
  ttl: number;
}

/**
 * An RFC 2136 UPDATE replacing one RRset conditionally: prerequisite "RRset exists (value dependent)" with
 * exactly `from` (class IN, TTL 0), or "RRset does not exist" (class NONE) when `from` is empty; then
 * "delete an RRset" (class ANY) and one "add to an RRset" per value of `to`.
 */
export function replaceUpdateMessage(u: ReplaceUpdate): Message {
  const type = TYPE[u.type];
  const rr = (cls: number, ttl: number, rdata: Buffer): ResourceRecord => ({ name: u.name, type, class: cls, ttl, rdata });
  const empty = Buffer.alloc(0);
  return {
    header: { id: u.id, qr: false, opcode: OPCODE.UPDATE, aa: false, tc: false, rd: false, ra: false, rcode: 0 },
    questions: [{ name: u.zone, type: TYPE.SOA, class: CLASS.IN }],
    answers: u.from.length ? u.from.map((v) => rr(CLASS.IN, 0, encodeAddress(u.type, v))) : [rr(CLASS.NONE, 0, empty)],
    authorities: [rr(CLASS.ANY, 0, empty), ...u.to.map((v) => rr(CLASS.IN, u.ttl, encodeAddress(u.type, v)))],
    additionals: [],
  };
}

/** TXT RDATA (RFC 1035 §3.3.14): each string as one length-prefixed character-string of at most 255 bytes. */
export function encodeTxt(strings: readonly string[]): Buffer {
  if (strings.length === 0) throw new WireError('TXT RDATA needs at least one character-string');
  const parts: Buffer[] = [];
  for (const s of strings) {
    const bytes = Buffer.from(s, 'latin1');
    if (bytes.length > 255 || bytes.toString('latin1') !== s) throw new WireError(`TXT character-string ${JSON.stringify(s.slice(0, 20))}...: more than 255 bytes or not latin1`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  return Buffer.concat(parts);
}

/** The character-strings of TXT RDATA; a WireError when a length runs past the end. */
export function decodeTxt(rdata: Buffer): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < rdata.length; ) {
    const len = rdata[pos];
    need(rdata, pos + 1, len, 'a TXT character-string');
    out.push(rdata.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
  return out;
}

export interface TxtUpdate {
  id: number;
  zone: string;
  name: string;
  /** Add the record (class IN, with `ttl`), or delete just this record from the set (class NONE, RFC 2136 §2.5.4). */
  action: 'add' | 'delete';
  /** The record's character-strings. */
  strings: readonly string[];
  ttl: number;
}

/**
 * An RFC 2136 UPDATE adding one TXT record to the set of `name`, or deleting that one record from it;
 * no prerequisites, so the other records of the set (other writers' values) are left as they are.
 */
export function txtUpdateMessage(u: TxtUpdate): Message {
  const rr: ResourceRecord = { name: u.name, type: TYPE.TXT, class: u.action === 'add' ? CLASS.IN : CLASS.NONE, ttl: u.action === 'add' ? u.ttl : 0, rdata: encodeTxt(u.strings) };
  return {
    header: { id: u.id, qr: false, opcode: OPCODE.UPDATE, aa: false, tc: false, rd: false, ra: false, rcode: 0 },
    questions: [{ name: u.zone, type: TYPE.SOA, class: CLASS.IN }],
    answers: [],
    authorities: [rr],
    additionals: [],
  };
}
