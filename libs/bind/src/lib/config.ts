import { isIPv4, isIPv6 } from 'node:net';

/** The record types the harness seeds and edits. */
export type BindRecordType = 'A' | 'AAAA';

/** A record in the zone: `name` is relative to the zone (`www`), `@`, or fully qualified (`www.vita.test`). */
export interface BindRecord {
  name: string;
  type: BindRecordType;
  value: string;
  /** Default 300. */
  ttl?: number;
}

/** A TSIG key as BIND reads it. */
export interface BindKey {
  name: string;
  algorithm: 'hmac-sha256';
  /** Base64 text, as it appears in the key file. */
  secret: string;
}

const NAME = /^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/** Throws unless `name` is a plain DNS name (letters, digits, `-`, `_`, dots; `*` as first label); the error names `what`. */
export function checkName(name: string, what: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (!NAME.test(n) || n.length > 253) throw new Error(`${what}: ${JSON.stringify(name)} is not a DNS name`);
  return n.toLowerCase();
}

/** `name` made fully qualified in `zone` (no trailing dot, lower case): `@` is the apex, a name already in the zone is kept. */
export function absoluteName(name: string, zone: string): string {
  const z = checkName(zone, 'zone');
  if (name === '@' || name === '') return z;
  const n = checkName(name, 'name');
  return n === z || n.endsWith(`.${z}`) ? n : `${n}.${z}`;
}

/** The canonical text of an address of `type` (IPv6 in the RFC 5952 form); throws naming `what` when it is not one. */
export function canonicalAddress(type: BindRecordType, value: string, what = 'value'): string {
  if (type === 'A') {
    if (!isIPv4(value)) throw new Error(`${what}: ${JSON.stringify(value)} is not an IPv4 address`);
    return value;
  }
  if (!isIPv6(value)) throw new Error(`${what}: ${JSON.stringify(value)} is not an IPv6 address`);
  return new URL(`http://[${value}]`).hostname.slice(1, -1);
}

/** A TTL in BIND's range, checked. */
function checkTtl(ttl: number, what: string): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) throw new Error(`${what}: TTL ${ttl} is not an integer in 0..2147483647`);
  return ttl;
}

/** BIND's key-file syntax (what `tsig-keygen` writes). */
export function keyFileText(key: BindKey): string {
  checkName(key.name, 'keyName');
  return `key "${key.name}" {\n\talgorithm ${key.algorithm};\n\tsecret "${key.secret}";\n};\n`;
}

export interface NamedConfOptions {
  /** named's working directory (pid file, session key, journal). */
  dir: string;
  address: string;
  port: number;
  zone: string;
  zoneFile: string;
  keyFile: string;
  keyName: string;
}

/** named.conf for one primary zone updatable with one TSIG key; the key is included from its file, never written here. */
export function namedConf(o: NamedConfOptions): string {
  const v6 = isIPv6(o.address);
  const q = (s: string) => JSON.stringify(s);
  return [
    `include ${q(o.keyFile)};`,
    'options {',
    `\tdirectory ${q(o.dir)};`,
    `\tpid-file ${q(`${o.dir}/named.pid`)};`,
    `\tsession-keyfile ${q(`${o.dir}/session.key`)};`,
    `\tmanaged-keys-directory ${q(o.dir)};`,
    v6 ? '\tlisten-on { none; };' : `\tlisten-on port ${o.port} { ${o.address}; };`,
    v6 ? `\tlisten-on-v6 port ${o.port} { ${o.address}; };` : '\tlisten-on-v6 { none; };',
    '\trecursion no;',
    '\tdnssec-validation no;',
    '\tnotify no;',
    '\tallow-transfer { none; };',
    '\tautomatic-interface-scan no;',
    '};',
    // No rndc channel: the system's /etc/bind/rndc.key would otherwise open port 953.
    'controls { };',
    `zone ${q(checkName(o.zone, 'zone'))} {`,
    '\ttype primary;',
    `\tfile ${q(o.zoneFile)};`,
    `\tallow-update { key ${q(checkName(o.keyName, 'keyName'))}; };`,
    '};',
    '',
  ].join('\n');
}

/** The zone file: SOA, NS `ns.<zone>` (with the server's own address, which BIND requires for an in-zone NS), then `records`. */
export function zoneFileText(zone: string, address: string, records: BindRecord[] = []): string {
  const z = checkName(zone, 'zone');
  const lines = [
    '$TTL 300',
    `@ IN SOA ns.${z}. hostmaster.${z}. 1 3600 600 86400 60`,
    `@ IN NS ns.${z}.`,
    `ns.${z}. IN ${isIPv6(address) ? 'AAAA' : 'A'} ${address}`,
  ];
  records.forEach((r, i) => {
    const what = `records[${i}]`;
    if (r.type !== 'A' && r.type !== 'AAAA') throw new Error(`${what}.type: ${JSON.stringify(r.type)} is not A or AAAA`);
    lines.push(`${absoluteName(r.name, z)}. ${checkTtl(r.ttl ?? 300, what)} IN ${r.type} ${canonicalAddress(r.type, r.value, `${what}.value`)}`);
  });
  return lines.join('\n') + '\n';
}

export interface NsupdateEdit {
  address: string;
  port: number;
  zone: string;
  name: string;
  type: BindRecordType;
  /** The new set; [] deletes it. */
  values: string[];
  ttl: number;
}

/** The nsupdate script (stdin) replacing one RRset, sent over TCP. */
export function nsupdateScript(e: NsupdateEdit): string {
  const name = absoluteName(e.name, e.zone);
  return [
    `server ${e.address} ${e.port}`,
    `zone ${checkName(e.zone, 'zone')}`,
    `update delete ${name}. ${e.type}`,
    ...e.values.map((v, i) => `update add ${name}. ${checkTtl(e.ttl, 'ttl')} ${e.type} ${canonicalAddress(e.type, v, `values[${i}]`)}`),
    'send',
    '',
  ].join('\n');
}

/** One answer of a lookup. */
export interface BindAnswer {
  value: string;
  ttl: number;
}

/**
 * The answers for `name`/`type` in dig's `+noall +answer +comments` output, with the response status
 * (`NOERROR`, `NXDOMAIN`, ...; undefined when dig printed no header).
 */
export function parseDigOutput(output: string, name: string, type: string): { status?: string; answers: BindAnswer[] } {
  const status = /->>HEADER<<-.*status: ([A-Z]+)/.exec(output)?.[1];
  const want = name.toLowerCase().replace(/\.$/, '');
  const answers: BindAnswer[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith(';') || !line.trim()) continue;
    const [owner, ttl, cls, rtype, ...rdata] = line.trim().split(/\s+/);
    if (owner?.toLowerCase().replace(/\.$/, '') !== want || cls !== 'IN' || rtype !== type) continue;
    answers.push({ value: rdata.join(' '), ttl: Number(ttl) });
  }
  return { status, answers };
}
