/** TSIG (RFC 8945) with hmac-sha256: signing a request, verifying a signed message. Pure: the time is a parameter. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS, DecodedMessage, decodeName, encodeName, RCODE, rcodeName, TYPE, WireError } from './wire';

export const TSIG_ALGORITHM = 'hmac-sha256';
/** Seconds of clock difference either way a signature stays valid (RFC 8945 recommends 300). */
export const TSIG_FUDGE = 300;
const MAC_SIZE = 32;

/** A TSIG key: `secret` is the raw key, never logged. */
export interface TsigKey {
  name: string;
  algorithm: 'hmac-sha256';
  secret: Buffer;
}

/** The RDATA of a TSIG record. */
export interface TsigRdata {
  algorithm: string;
  /** Seconds since the epoch (48 bits). */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  /** 0, or a TSIG error (BADSIG, BADKEY, BADTIME...). */
  error: number;
  other: Buffer;
}

const u48 = (n: number): Buffer => {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
};
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

export function encodeTsigRdata(t: TsigRdata): Buffer {
  return Buffer.concat([encodeName(t.algorithm), u48(t.timeSigned), u16(t.fudge), u16(t.mac.length), t.mac, u16(t.originalId), u16(t.error), u16(t.other.length), t.other]);
}

export function decodeTsigRdata(rdata: Buffer): TsigRdata {
  const { name, next } = decodeName(rdata, 0);
  const fixed = (at: number, n: number) => {
    if (at + n > rdata.length) throw new WireError(`truncated TSIG RDATA: needs ${n} bytes at offset ${at}, has ${rdata.length}`);
  };
  fixed(next, 10);
  const macSize = rdata.readUInt16BE(next + 8);
  const macEnd = next + 10 + macSize;
  fixed(next + 10, macSize + 6);
  const otherLen = rdata.readUInt16BE(macEnd + 4);
  fixed(macEnd + 6, otherLen);
  if (macEnd + 6 + otherLen !== rdata.length) throw new WireError('TSIG RDATA has bytes after its other data');
  return {
    algorithm: name.toLowerCase(),
    timeSigned: rdata.readUIntBE(next, 6),
    fudge: rdata.readUInt16BE(next + 6),
    mac: Buffer.from(rdata.subarray(next + 10, macEnd)),
    originalId: rdata.readUInt16BE(macEnd),
    error: rdata.readUInt16BE(macEnd + 2),
    other: Buffer.from(rdata.subarray(macEnd + 6, macEnd + 6 + otherLen)),
  };
}

/** The TSIG variables (RFC 8945 §4.3.3) in canonical wire format: names in lower case, uncompressed. */
function tsigVariables(keyName: string, t: TsigRdata): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS.ANY, 0); // class ANY, TTL 0
  return Buffer.concat([encodeName(keyName, true), classTtl, encodeName(t.algorithm, true), u48(t.timeSigned), u16(t.fudge), u16(t.error), u16(t.other.length), t.other]);
}

const hmac = (key: TsigKey, parts: Buffer[]): Buffer => {
  const h = createHmac('sha256', key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The TSIG record appended to a message (name = key name, type TSIG, class ANY, TTL 0). */
function tsigRecord(keyName: string, t: TsigRdata): Buffer {
  const fixed = Buffer.alloc(10);
  const rdata = encodeTsigRdata(t);
  fixed.writeUInt16BE(TYPE.TSIG, 0);
  fixed.writeUInt16BE(CLASS.ANY, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(keyName), fixed, rdata]);
}

/**
 * Signs an encoded, unsigned request: returns it with a TSIG record appended (ARCOUNT + 1) and the MAC,
 * which the response's MAC covers. `now` is in seconds since the epoch.
 */
export function signRequest(message: Buffer, key: TsigKey, now: number): { signed: Buffer; mac: Buffer } {
  if (message.length < 12) throw new WireError('cannot sign: the message has no header');
  const t: TsigRdata = { algorithm: TSIG_ALGORITHM, timeSigned: Math.floor(now), fudge: TSIG_FUDGE, mac: Buffer.alloc(0), originalId: message.readUInt16BE(0), error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, [message, tsigVariables(key.name, t)]);
  const head = Buffer.from(message.subarray(0, 12));
  head.writeUInt16BE(head.readUInt16BE(10) + 1, 10);
  return { signed: Buffer.concat([head, message.subarray(12), tsigRecord(key.name, { ...t, mac })]), mac };
}

/** What a message's TSIG says: verified, an error the signer reported (it could not verify us), or why it does not verify. */
export type TsigVerdict =
  | { status: 'verified'; tsig: TsigRdata }
  | { status: 'signer-error'; error: number; errorName: string }
  | { status: 'unsigned' }
  | { status: 'invalid'; reason: string };

const sameName = (a: string, b: string) => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/**
 * Verifies the TSIG of a decoded message (the last additional record) with `key`: key name, algorithm,
 * a full-length MAC over [the request MAC when verifying a response] + the message without its TSIG record
 * (original ID, ARCOUNT - 1) + the TSIG variables, and the time within the fudge of `now` (seconds).
 */
export function verifyTsig(raw: Buffer, decoded: DecodedMessage, key: TsigKey, now: number, requestMac?: Buffer): TsigVerdict {
  const last = decoded.additionals.length - 1;
  const rr = decoded.additionals[last];
  const tsigs = decoded.additionals.filter((r) => r.type === TYPE.TSIG).length;
  if (!rr || rr.type !== TYPE.TSIG) return tsigs ? { status: 'invalid', reason: 'the TSIG record is not the last record' } : { status: 'unsigned' };
  if (tsigs > 1) return { status: 'invalid', reason: 'more than one TSIG record' };
  if (rr.class !== CLASS.ANY || rr.ttl !== 0) return { status: 'invalid', reason: 'the TSIG record is not class ANY with TTL 0' };
  let t: TsigRdata;
  try {
    t = decodeTsigRdata(rr.rdata);
  } catch (e) {
    return { status: 'invalid', reason: (e as Error).message };
  }
  if (!sameName(rr.name, key.name)) return { status: 'invalid', reason: `signed with key ${JSON.stringify(rr.name)}, not ${JSON.stringify(key.name)}` };
  if (!sameName(t.algorithm, TSIG_ALGORITHM)) return { status: 'invalid', reason: `signed with algorithm ${JSON.stringify(t.algorithm)}, not ${TSIG_ALGORITHM}` };
  if (t.error !== RCODE.NOERROR) return { status: 'signer-error', error: t.error, errorName: rcodeName(t.error) };
  if (t.mac.length !== MAC_SIZE) return { status: 'invalid', reason: `the MAC is ${t.mac.length} bytes, not ${MAC_SIZE}` };
  const head = Buffer.from(raw.subarray(0, 12));
  head.writeUInt16BE(t.originalId, 0);
  head.writeUInt16BE(decoded.additionals.length - 1, 10);
  const body = raw.subarray(12, decoded.additionalOffsets[last]);
  const prefix = requestMac ? [u16(requestMac.length), requestMac] : [];
  const expected = hmac(key, [...prefix, head, body, tsigVariables(key.name, t)]);
  if (!timingSafeEqual(expected, t.mac)) return { status: 'invalid', reason: 'the MAC does not verify (BADSIG)' };
  if (Math.abs(Math.floor(now) - t.timeSigned) > t.fudge) return { status: 'invalid', reason: `signed at ${t.timeSigned}, outside ${t.fudge} s of now (BADTIME)` };
  return { status: 'verified', tsig: t };
}
