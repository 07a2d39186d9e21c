/**
 * A local stand-in for the Route 53 API (AWS cannot be reached from the test machines).
 *
 * It speaks only the calls the provider uses, in Route 53's REST-XML: ListResourceRecordSets
 * (GET /2013-04-01/hostedzone/{Id}/rrset), ChangeResourceRecordSets (POST on the same path) and
 * GetChange (GET /2013-04-01/change/{Id}). What matters is kept honest: record sets per hosted zone,
 * atomic batches validated against a working copy, DELETE that must match values and TTL exactly,
 * AWS-style InvalidChangeBatch messages, PENDING then INSYNC, a per-second rate limit answered with
 * `Throttling`, and SigV4 verified with the secret (canonical request, string to sign, signing key).
 * Test knobs: hang, fail the next N requests, hand edits, a request log.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export type StandinRequestKind = 'list' | 'change' | 'getChange' | 'other';

export interface StandinRecordSet {
  ttl?: number;
  values: string[];
  /** Weighted, failover... sets carry one (the provider must refuse them). */
  setIdentifier?: string;
  weight?: number;
  /** An alias record (no TTL, no values). */
  aliasTarget?: { hostedZoneId: string; dnsName: string };
}

export interface StandinLogEntry {
  kind: StandinRequestKind;
  /** performance.now() at arrival. */
  at: number;
  status: number;
  /** The error code answered, if any. */
  code?: string;
  /** GetChange: the status answered. */
  changeStatus?: 'PENDING' | 'INSYNC';
}

export interface StandinOptions {
  /** Hosted zones by id, e.g. `{ Z1EXAMPLE: 'example.com' }`. */
  zones: Record<string, string>;
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry this x-amz-security-token. */
  sessionToken?: string;
  /** How long a change stays PENDING (ms); default 0. */
  pendingMs?: number;
  /** More than this many requests within one second are answered 400 Throttling; default 5. */
  maxPerSecond?: number;
}

export interface Route53Standin {
  readonly endpoint: string;
  readonly log: readonly StandinLogEntry[];
  count(kind?: StandinRequestKind): number;
  /** The most requests that arrived within any one-second window. */
  maxPerWindow(windowMs?: number): number;
  recordSet(zoneId: string, name: string, type: string): StandinRecordSet | undefined;
  /** A hand edit (as in the console): sets or, with `undefined`, removes a set. */
  edit(zoneId: string, name: string, type: string, set: StandinRecordSet | undefined): void;
  /** Accept connections and read requests, but never answer while on. */
  hang(on: boolean): void;
  /** Answer the next `n` requests with this status and error code. */
  failNext(n: number, status: number, code: string, message?: string): void;
  setPendingMs(ms: number): void;
  close(): Promise<void>;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const MAX_SKEW_MS = 5 * 60_000;

// ---------------------------------------------------------------- a minimal XML reader

export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()];
    return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Parses elements and text (attributes and namespaces are ignored); throws on malformed input. */
export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#document', children: [], text: '' };
  const stack = [root];
  const tag = /<(\/?)([A-Za-z_][\w.-]*)[^>]*?(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    stack[stack.length - 1].text += decodeEntities(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (!m[2]) continue; // declaration or comment
    if (m[1]) {
      const open = stack.pop();
      if (!open || open.name !== m[2]) throw new Error(`unexpected </${m[2]}>`);
    } else {
      const node: XmlNode = { name: m[2], children: [], text: '' };
      stack[stack.length - 1].children.push(node);
      if (!m[3]) stack.push(node);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  return root;
}

const child = (n: XmlNode | undefined, name: string) => n?.children.find((c) => c.name === name);
const children = (n: XmlNode | undefined, name: string) => n?.children.filter((c) => c.name === name) ?? [];
const textOf = (n: XmlNode | undefined, name: string) => child(n, name)?.text.trim();

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

// ---------------------------------------------------------------- names, as Route 53 stores them

/** Lower case, trailing dot, `*` and other unusual characters as `\ooo` octal escapes. */
export function storedName(name: string): string {
  const decoded = name.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const fq = decoded.endsWith('.') ? decoded : `${decoded}.`;
  return fq.toLowerCase().replace(/[^a-z0-9._-]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Route 53's list order: by name with its labels reversed, then by type. */
function sortKey(name: string, type: string): string {
  return `${name.split('.').reverse().join('.')} ${type}`;
}

const setKey = (name: string, type: string, id?: string) => `${name}|${type}|${id ?? ''}`;

interface StoredSet extends StandinRecordSet {
  name: string;
  type: string;
}

interface Change {
  id: string;
  submittedAt: Date;
}

// ---------------------------------------------------------------- SigV4

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
function sigv4Encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

type AuthFailure = { status: number; code: string; message: string };

/** Verifies the request's SigV4 Authorization header; returns why it fails, or undefined. */
function verifySigV4(req: IncomingMessage, body: Buffer, opts: StandinOptions): AuthFailure | undefined {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { status: 403, code: 'MissingAuthenticationToken', message: 'Missing Authentication Token' };
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  if (keyId !== opts.accessKeyId) {
    return { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  }
  if (opts.sessionToken !== undefined && req.headers['x-amz-security-token'] !== opts.sessionToken) {
    return { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  const signedList = signedHeaders.split(';');
  if (!when || !amzDate.startsWith(day) || service !== 'route53' || !signedList.includes('host') || !signedList.includes('x-amz-date')) {
    return { status: 403, code: 'IncompleteSignature', message: 'The request signature does not conform to AWS standards.' };
  }
  const t = Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]);
  if (Math.abs(Date.now() - t) > MAX_SKEW_MS) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'Signature expired: the request time is too far from the server time.' };
  }

  const url = new URL(req.url ?? '/', 'http://standin');
  // Every service but S3 signs each path segment encoded twice: once on the wire, once more here.
  const path = url.pathname.split('/').map(sigv4Encode).join('/');
  const query = [...url.searchParams]
    .map(([k, v]) => [sigv4Encode(k), sigv4Encode(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedList.map((h) => {
    const raw = req.headers[h];
    const value = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim().replace(/\s+/g, ' ');
    return `${h}:${value}\n`;
  });
  const payloadHash = sha256(body);
  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const canonical = [req.method, path, query, headers.join(''), signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${opts.secretAccessKey}`, day), region), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(toSign).digest('hex'));
  if (!timingSafeEqual(expected, Buffer.from(signature))) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}

// ---------------------------------------------------------------- the server

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startRoute53Standin(opts: StandinOptions): Promise<Route53Standin> {
  const zones = new Map<string, { name: string; sets: Map<string, StoredSet> }>();
  for (const [id, name] of Object.entries(opts.zones)) zones.set(id, { name: storedName(name), sets: new Map() });
  const changes = new Map<string, Change>();
  const log: StandinLogEntry[] = [];
  const sockets = new Set<Socket>();
  const maxPerSecond = opts.maxPerSecond ?? 5;
  let pendingMs = opts.pendingMs ?? 0;
  let hanging = false;
  let failures: { left: number; status: number; code: string; message: string } | undefined;

  const zoneOf = (id: string) => {
    const zone = zones.get(id);
    if (!zone) throw new HttpError(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
    return zone;
  };

  function listSets(zoneId: string, q: URLSearchParams): string {
    const zone = zoneOf(zoneId);
    const max = Math.min(Number(q.get('maxitems') ?? 300) || 300, 300);
    const startName = q.get('name');
    const startType = q.get('type');
    if (startType && !startName) throw new HttpError(400, 'InvalidInput', 'The input is not valid: type requires name');
    const start = startName ? sortKey(storedName(startName), startType ?? '') : '';
    const all = [...zone.sets.values()]
      .map((s) => ({ s, k: `${sortKey(s.name, s.type)} ${s.setIdentifier ?? ''}` }))
      .filter(({ k }) => k >= start)
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
      .map(({ s }) => s);
    const page = all.slice(0, max);
    const next = all[max];
    const sets = page.map((s) => {
      const parts = [`<Name>${escapeXml(s.name)}</Name>`, `<Type>${s.type}</Type>`];
      if (s.setIdentifier !== undefined) parts.push(`<SetIdentifier>${escapeXml(s.setIdentifier)}</SetIdentifier>`);
      if (s.weight !== undefined) parts.push(`<Weight>${s.weight}</Weight>`);
      if (s.aliasTarget) {
        parts.push(
          `<AliasTarget><HostedZoneId>${escapeXml(s.aliasTarget.hostedZoneId)}</HostedZoneId><DNSName>${escapeXml(s.aliasTarget.dnsName)}</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>`,
        );
      } else {
        parts.push(`<TTL>${s.ttl}</TTL>`);
        parts.push(`<ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords>`);
      }
      return `<ResourceRecordSet>${parts.join('')}</ResourceRecordSet>`;
    });
    const tail = next
      ? `<IsTruncated>true</IsTruncated><NextRecordName>${escapeXml(next.name)}</NextRecordName><NextRecordType>${next.type}</NextRecordType>`
      : '<IsTruncated>false</IsTruncated>';
    return `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${sets.join('')}</ResourceRecordSets>${tail}<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`;
  }

  function changeInfo(change: Change, root: string): string {
    const status = Date.now() - change.submittedAt.getTime() >= pendingMs ? 'INSYNC' : 'PENDING';
    return `<${root} xmlns="${NS}"><ChangeInfo><Id>/change/${change.id}</Id><Status>${status}</Status><SubmittedAt>${change.submittedAt.toISOString()}</SubmittedAt></ChangeInfo></${root}>`;
  }

  function applyBatch(zoneId: string, body: string): string {
    const zone = zoneOf(zoneId);
    let doc: XmlNode;
    try {
      doc = parseXml(body);
    } catch (e) {
      throw new HttpError(400, 'MalformedInput', `Invalid XML: ${(e as Error).message}`);
    }
    const changeList = children(child(child(child(doc, 'ChangeResourceRecordSetsRequest'), 'ChangeBatch'), 'Changes'), 'Change');
    if (changeList.length === 0) throw new HttpError(400, 'InvalidInput', 'Invalid request: ChangeBatch.Changes is empty');
    const work = new Map(zone.sets);
    const problems: string[] = [];
    for (const c of changeList) {
      const action = textOf(c, 'Action');
      const rrs = child(c, 'ResourceRecordSet');
      const name = storedName(textOf(rrs, 'Name') ?? '');
      const type = textOf(rrs, 'Type') ?? '';
      const ttlText = textOf(rrs, 'TTL');
      const values = children(child(rrs, 'ResourceRecords'), 'ResourceRecord').map((r) => textOf(r, 'Value') ?? '');
      const setIdentifier = textOf(rrs, 'SetIdentifier');
      const label = `[name='${name}', type='${type}'${setIdentifier !== undefined ? `, set-identifier='${setIdentifier}'` : ''}]`;
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.name}`);
        continue;
      }
      const badValue = type === 'TXT' ? values.map(txtValueProblem).find((p) => p !== undefined) : undefined;
      if (badValue) {
        problems.push(badValue);
        continue;
      }
      const key = setKey(name, type, setIdentifier);
      const existing = work.get(key);
      const incoming: StoredSet = { name, type, ttl: ttlText === undefined ? undefined : Number(ttlText), values, setIdentifier };
      if (action === 'CREATE') {
        if (existing) problems.push(`Tried to create resource record set ${label} but it already exists`);
        else work.set(key, incoming);
      } else if (action === 'DELETE') {
        if (!existing) problems.push(`Tried to delete resource record set ${label} but it was not found`);
        else if (!sameSet(existing, incoming)) problems.push(`Tried to delete resource record set ${label} but the values provided do not match the current values`);
        else work.delete(key);
      } else if (action === 'UPSERT') {
        work.set(key, incoming);
      } else {
        throw new HttpError(400, 'InvalidInput', `Invalid request: unknown Action ${action}`);
      }
    }
    if (problems.length > 0) throw new HttpError(400, 'InvalidChangeBatch', `[${problems.join(', ')}]`);
    zone.sets = work;
    const change: Change = { id: `C${randomUUID().replace(/-/g, '').slice(0, 18).toUpperCase()}`, submittedAt: new Date() };
    changes.set(change.id, change);
    return changeInfo(change, 'ChangeResourceRecordSetsResponse');
  }

  function route(req: IncomingMessage, body: Buffer, entry: StandinLogEntry): string {
    const url = new URL(req.url ?? '/', 'http://standin');
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname);
    const change = /^\/2013-04-01\/change\/([^/]+)$/.exec(url.pathname);
    if (rrset && req.method === 'GET') return listSets(decodeURIComponent(rrset[1]), url.searchParams);
    if (rrset && req.method === 'POST') return applyBatch(decodeURIComponent(rrset[1]), body.toString('utf8'));
    if (change && req.method === 'GET') {
      const found = changes.get(decodeURIComponent(change[1]));
      if (!found) throw new HttpError(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${change[1]}`);
      const xml = changeInfo(found, 'GetChangeResponse');
      entry.changeStatus = xml.includes('<Status>INSYNC</Status>') ? 'INSYNC' : 'PENDING';
      return xml;
    }
    throw new HttpError(404, 'UnknownOperationException', `No operation at ${req.method} ${url.pathname}`);
  }

  function kindOf(req: IncomingMessage): StandinRequestKind {
    const path = (req.url ?? '').split('?')[0];
    if (/\/rrset\/?$/.test(path)) return req.method === 'POST' ? 'change' : 'list';
    if (/^\/2013-04-01\/change\//.test(path)) return 'getChange';
    return 'other';
  }

  function answer(res: ServerResponse, entry: StandinLogEntry, status: number, xml: string, code?: string) {
    entry.status = status;
    entry.code = code;
    const requestId = randomUUID();
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0"?>\n${xml}`);
  }

  function errorXml(code: string, message: string, status: number): string {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: StandinLogEntry = { kind: kindOf(req), at: performance.now(), status: 0 };
      log.push(entry);
      if (hanging) return; // read, never answered
      const body = Buffer.concat(chunks);
      const fail = (status: number, code: string, message: string) => answer(res, entry, status, errorXml(code, message, status), code);
      const authFailure = verifySigV4(req, body, opts);
      if (authFailure) return fail(authFailure.status, authFailure.code, authFailure.message);
      const recent = log.filter((e) => e.at > entry.at - 1000).length;
      if (recent > maxPerSecond) return fail(400, 'Throttling', 'Rate exceeded');
      if (failures && failures.left > 0) {
        failures.left--;
        return fail(failures.status, failures.code, failures.message);
      }
      try {
        answer(res, entry, 200, route(req, body, entry));
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        fail(e.status, e.code, e.message);
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    count: (kind) => log.filter((e) => kind === undefined || e.kind === kind).length,
    maxPerWindow: (windowMs = 1000) => maxInWindow(log.map((e) => e.at), windowMs),
    recordSet(zoneId, name, type) {
      const s = [...zoneOf(zoneId).sets.values()].find((x) => x.name === storedName(name) && x.type === type);
      return s && { ttl: s.ttl, values: [...s.values], setIdentifier: s.setIdentifier, weight: s.weight, aliasTarget: s.aliasTarget };
    },
    edit(zoneId, name, type, set) {
      const zone = zoneOf(zoneId);
      const n = storedName(name);
      for (const [k, s] of zone.sets) if (s.name === n && s.type === type) zone.sets.delete(k);
      if (set) zone.sets.set(setKey(n, type, set.setIdentifier), { ...set, values: [...set.values], name: n, type });
    },
    hang(on) {
      hanging = on;
    },
    failNext(n, status, code, message = `${code} (stand-in)`) {
      failures = { left: n, status, code, message };
    },
    setPendingMs(ms) {
      pendingMs = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Why Route 53 refuses a TXT value, in its words, or undefined: every value is one or more
 * character-strings in double quotes (`"a" "b"`, `\"` and `\\` escaped), each at most 255 characters.
 */
export function txtValueProblem(value: string): string | undefined {
  const strings = /^\s*"((?:[^"\\]|\\.)*)"(?:\s+"((?:[^"\\]|\\.)*)")*\s*$/.test(value) ? [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]) : undefined;
  if (!strings) return `Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${value}''`;
  if (strings.some((s) => s.replace(/\\(\d{3}|.)/g, '_').length > 255)) return `Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '${value}''`;
  return undefined;
}

function sameSet(a: StandinRecordSet, b: StandinRecordSet): boolean {
  const sorted = (v: string[]) => [...v].sort().join(' ');
  return a.ttl === b.ttl && sorted(a.values) === sorted(b.values) && a.aliasTarget === undefined;
}

/** The largest number of timestamps (ms) that fall within any window [t, t + windowMs). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}
