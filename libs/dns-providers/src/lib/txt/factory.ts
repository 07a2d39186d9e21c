import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseTsigKeyFile } from '../rfc2136/key-file';
import type { TsigKey } from '../rfc2136/tsig';
import { Rfc2136TxtRecords } from '../rfc2136/txt';
import { encodeName } from '../rfc2136/wire';
import type { Route53Credentials } from '../route53/settings';
import { Route53TxtRecords } from '../route53/txt';
import type { TxtRecords } from './txt-records';

/** TXT records on an RFC 2136 server, e.g. BIND, with a TSIG key. */
export interface Rfc2136TxtSettings {
  kind: 'rfc2136';
  /** The primary that accepts updates: `host:port` (`[2001:db8::53]:53` for IPv6). */
  server: string;
  /** The zone the `_acme-challenge` names live in, e.g. `example.com`. */
  zone: string;
  /** A BIND key file (as `tsig-keygen` writes it) holding the hmac-sha256 key. Read once; the secret is never logged. */
  keyFile: string;
  /** Which key of the file, when it holds several. */
  keyName?: string;
  /** Bound on each exchange with the server, in ms. */
  timeoutMs: number;
}

/** TXT records in a Route 53 hosted zone. */
export interface Route53TxtSettings {
  kind: 'route53';
  /** The hosted zone (`Z0123456789ABCDEFGHIJ`). */
  hostedZoneId: string;
  /** Default us-east-1 (the SigV4 signing region). */
  region?: string;
  /** Only for a Route 53-compatible API (the tests' stand-in); default: AWS's endpoint. */
  endpoint?: string;
  /** Default: the SDK's provider chain (AWS_* environment, ~/.aws files, instance roles). */
  credentials?: Route53Credentials;
  /** Bound on each request, in ms. */
  timeoutMs: number;
  /** How long a change may stay PENDING before the call fails, in ms; default 120 000. */
  syncTimeoutMs?: number;
}

export type TxtRecordsSettings = Rfc2136TxtSettings | Route53TxtSettings;

export interface TxtRecordsFromOptions {
  /** How the key file is read (default: readFileSync as UTF-8). */
  readFile?: (path: string) => string;
}

const FIELDS: Record<TxtRecordsSettings['kind'], readonly string[]> = {
  rfc2136: ['kind', 'server', 'zone', 'keyFile', 'keyName', 'timeoutMs'],
  route53: ['kind', 'hostedZoneId', 'region', 'endpoint', 'credentials', 'timeoutMs', 'syncTimeoutMs'],
};

const shown = (v: unknown): string => (typeof v === 'string' ? `'${v.length > 60 ? `${v.slice(0, 59)}…` : v}'` : typeof v === 'number' ? String(v) : typeof v);

/** `host:port` as { host, port } (IPv6 in brackets), or why it is not one. Pure. */
export function parseServer(value: string): { host: string; port: number } | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  if (!m) return 'must be host:port, e.g. 192.0.2.53:53 or [2001:db8::53]:53';
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(host) !== 6) return 'must be host:port: the part in brackets is not an IPv6 address';
  if (m[2] !== undefined && isIP(host) === 0 && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i.test(host)) {
    return 'must be host:port: the host is neither an IP address nor a host name';
  }
  if (port < 1 || port > 65535) return `must be host:port: port ${port} is not 1..65535`;
  return { host, port };
}

/**
 * The TXT records the settings name (for ACME DNS-01), checked first: a bad or missing field throws
 * an Error of one line naming it (`rfc2136.server must be host:port …`), never a secret. The key file
 * is read and parsed here, once.
 */
export function txtRecordsFrom(settings: TxtRecordsSettings, options: TxtRecordsFromOptions = {}): TxtRecords {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new Error('TXT records settings must be an object');
  const kind = (settings as { kind?: unknown }).kind;
  if (kind !== 'rfc2136' && kind !== 'route53') throw new Error(`kind must be 'rfc2136' or 'route53' (got ${kind === undefined ? 'nothing' : shown(kind)})`);
  const bad = (field: string, why: string) => new Error(`${kind}.${field} ${why}`);
  for (const key of Object.keys(settings)) {
    if (!FIELDS[kind].includes(key)) throw bad(key, `is not a setting (${kind} takes ${FIELDS[kind].filter((f) => f !== 'kind').join(', ')})`);
  }
  const raw = settings as unknown as Record<string, unknown>;
  const text = (field: string, required: boolean): string | undefined => {
    const v = raw[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw bad(field, v === undefined ? 'is required' : `must be a non-empty string (got ${shown(v)})`);
    return v.trim();
  };
  const positive = (field: string, required: boolean): number | undefined => {
    const v = raw[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(field, v === undefined ? 'is required' : `must be a positive number of ms (got ${shown(v)})`);
    return v;
  };

  if (kind === 'rfc2136') {
    const serverText = text('server', true) as string;
    const server = parseServer(serverText);
    if (typeof server === 'string') throw bad('server', `${server} (got ${shown(serverText)})`);
    const zone = text('zone', true) as string;
    try {
      encodeName(zone);
    } catch (e) {
      throw bad('zone', `is not a DNS name (${(e as Error).message})`);
    }
    const keyFile = text('keyFile', true) as string;
    const keyName = text('keyName', false);
    const timeoutMs = positive('timeoutMs', true) as number;
    let keyText: string;
    try {
      keyText = (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(keyFile);
    } catch (e) {
      throw bad('keyFile', `cannot be read: ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let key: TsigKey;
    try {
      key = parseTsigKeyFile(keyText, keyFile, keyName);
    } catch (e) {
      throw bad('keyFile', `is not a usable key file: ${(e as Error).message}`);
    }
    return new Rfc2136TxtRecords({ server, zone, key, timeoutMs });
  }

  const hostedZoneId = text('hostedZoneId', true) as string;
  const region = text('region', false);
  const endpoint = text('endpoint', false);
  const timeoutMs = positive('timeoutMs', true) as number;
  const syncTimeoutMs = positive('syncTimeoutMs', false);
  const credentials = raw['credentials'];
  if (credentials !== undefined && (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials))) {
    throw bad('credentials', 'must be an object { accessKeyId, secretAccessKey, sessionToken? }');
  }
  try {
    return new Route53TxtRecords({ hostedZoneId, region, endpoint, timeoutMs, syncTimeoutMs, credentials: credentials as Route53Credentials | undefined });
  } catch (e) {
    // resolveSettings names the field (`route53 settings: region must be …`), in one line without a secret
    throw new Error((e as Error).message.replace(/^route53 settings: /, 'route53.'));
  }
}
