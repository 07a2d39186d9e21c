import type { ActionRecordDto, JoinBundle, SiteStatement } from '@vita/contracts';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchesPin, type JoinToken } from './join-token';
import { type ReadPeer, tlsFiles } from './role-services';
import type { NodeSite } from './site-config';

/** What joining (and leaving) needs of this host: its replica and its services, however they run. */
export interface NodeHost {
  /** The node's own api, as this host reaches it (registering in the topology goes through it). */
  readonly apiUrl: string;
  /** Starts (or finds running) the local MariaDB replica with the host's certificate. */
  startReplica(): Promise<void>;
  /** Runs statements as root on the local replica, unlogged (they are the node's own, not replicated). */
  local(statements: SiteStatement[]): Promise<void>;
  /** SHOW REPLICA STATUS of the local replica (null when none is configured). */
  replicaStatus(): Promise<Record<string, unknown> | null>;
  /** Creates the api's accounts on the local replica (as provisioning did on the primary). */
  provisionAccounts(secrets: Record<string, string>, userHost: string): Promise<void>;
  /** Starts the api, web and lb services (idempotent); their apis read the node's replica, then `readPeers`' replicas, then the primary. */
  startServices(secrets: Record<string, string>, readPeers: readonly ReadPeer[]): Promise<void>;
  stopServices(): Promise<void>;
  /** The résumé version the node's lb serves (from the page's ETag), null when it serves none. */
  pageVersion(): Promise<number | null>;
  /** The version stored on the primary (read with the reader account over verified TLS). */
  primaryVersion(secrets: Record<string, string>): Promise<number>;
}

export interface JoinOptions {
  say: (line: string) => void;
  /** Bound on waiting for the page to serve the current version (default 120 s). */
  timeoutMs?: number;
}

/** A failed step: the message names the step, never a secret. */
export class JoinError extends Error {}

/** The node's own api does not answer (a leave run again after its services were stopped). */
class ApiUnreachable extends JoinError {}

const SECRETS_FILE = (site: NodeSite) => `${site.home}/secrets.env`;

function writeWhole(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** PEM; unset: the peer is not verified (only to fetch the CA, which is then checked against the pin). */
  ca?: string;
  bearer?: string;
  body?: unknown;
  timeoutMs?: number;
}

/** One HTTPS call to the warehouse; bounded; the error says what failed, never the token. */
function call(c: Call): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
    const req = httpsRequest(
      c.url,
      {
        method: c.method,
        ...(c.ca ? { ca: c.ca } : { rejectUnauthorized: false }),
        headers: { ...(c.bearer ? { authorization: `Bearer ${c.bearer}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
        timeout: c.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > 4 * 1024 * 1024) req.destroy(new Error('the answer is over 4 MiB'));
          else chunks.push(d);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${c.timeoutMs ?? 15_000} ms`)));
    req.on('error', (err) => reject(new JoinError(`${c.method} ${c.url}: ${err.message}`)));
    req.end(payload);
  });
}

const message = (text: string): string => {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : JSON.stringify(body.message ?? body).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Joins this host to the topology as a content node. Every step is safe to run again after a failure
 * half-way: the certificate and secrets are replaced whole, a replica that already replicates from the
 * primary is not seeded again, starting services and registering are idempotent.
 */
export async function joinSite(site: NodeSite, token: JoinToken, host: NodeHost, o: JoinOptions): Promise<void> {
  const { say } = o;
  const warehouse = `https://${site.warehouse.address.includes(':') ? `[${site.warehouse.address}]` : site.warehouse.address}:${site.warehouse.replAdmin}`;
  const tls = tlsFiles(site.home, site.name);

  // 1. Trust: the CA the warehouse presents must be the one the token pins.
  const fetched = await call({ method: 'GET', url: `${warehouse}/api/v1/sites/ca` });
  if (fetched.status !== 200) throw new JoinError(`the warehouse at ${warehouse} does not hand out its CA (${fetched.status}: ${message(fetched.text)})`);
  // Exactly one certificate, trusted as re-encoded from what was pinned: nothing else rides along.
  const blocks = fetched.text.match(/-----BEGIN [^-]+-----/g) ?? [];
  let ca = '';
  try {
    if (blocks.length === 1 && blocks[0] === '-----BEGIN CERTIFICATE-----') ca = new X509Certificate(fetched.text).toString();
  } catch {
    ca = '';
  }
  if (!ca || !matchesPin(ca, token.pin)) throw new JoinError(`the CA the warehouse at ${warehouse} presents is not the one the join token pins (exactly one certificate): wrong warehouse address, or a token of another site`);
  writeWhole(tls.ca, ca, 0o644);
  say('✓ the warehouse is the one the token names (its CA matches the pin)');

  // 2. This node's certificate and the site's secrets, over TLS verified with that CA.
  const joined = await call({ method: 'POST', url: `${warehouse}/api/v1/sites/join`, ca, bearer: token.secret, body: { name: site.name, address: site.address } });
  if (joined.status === 401 || joined.status === 403) throw new JoinError('the warehouse refused the join secret: ask for a new token (`npm run site -- token` on the warehouse)');
  if (joined.status !== 200) throw new JoinError(`the warehouse refused to join ${site.name} (${joined.status}: ${message(joined.text)})`);
  const bundle = JSON.parse(joined.text) as JoinBundle;
  if (!matchesPin(bundle.ca, token.pin)) throw new JoinError('the warehouse answered with another CA than it presented');
  writeWhole(tls.key, bundle.key, 0o600);
  writeWhole(tls.cert, bundle.cert, 0o644);
  const existing = existsSync(SECRETS_FILE(site)) ? readFileSync(SECRETS_FILE(site), 'utf8') : '';
  const kept = existing.split('\n').filter((l) => l.trim() && !Object.keys(bundle.secrets).some((k) => l.startsWith(`${k}=`)));
  writeWhole(SECRETS_FILE(site), [...kept, ...Object.entries(bundle.secrets).map(([k, v]) => `${k}=${v}`)].join('\n') + '\n', 0o600);
  say(`✓ certificate for ${site.address} and the site's secrets in ${site.home}`);

  // 3. The local replica; 4. unless it already replicates from the primary (a join run again), the
  // accounts repl-admin and the api use (their statements land in the replica's own binlog, which
  // the seed's RESET MASTER clears), then seeded from a consistent snapshot of the primary.
  await host.startReplica();
  // A replica seeded by an earlier run reconnects to the primary on its own: give it a moment.
  let status = await host.replicaStatus();
  // (Just after a start its threads may not run yet: wait, bounded, unless one reports an error.)
  const ours = (st: Record<string, unknown> | null) => st !== null && String(st['Master_Host']) === bundle.primary.host;
  const running = (st: Record<string, unknown> | null) => st?.['Slave_IO_Running'] === 'Yes' && st?.['Slave_SQL_Running'] === 'Yes';
  const failing = (st: Record<string, unknown> | null) => Number(st?.['Last_IO_Errno'] ?? 0) !== 0 || Number(st?.['Last_SQL_Errno'] ?? 0) !== 0;
  for (let i = 0; i < 60 && ours(status) && !running(status) && !failing(status); i++) {
    await sleep(250);
    status = await host.replicaStatus();
  }
  const replicating = ours(status) && running(status);
  if (replicating) {
    say(`✓ replica on ${site.address}:${site.ports.mariadb} already replicates from the primary: not seeded again`);
  } else {
    await host.local(bundle.replAccounts);
    await host.provisionAccounts(bundle.secrets, bundle.userHost);
    say(`✓ replica on ${site.address}:${site.ports.mariadb} with its accounts`);
    const seeded = await call({
      method: 'POST',
      url: `${warehouse}/api/v1/sites/join/${site.name}/seed`,
      ca,
      bearer: token.secret,
      body: { address: site.address, dbPort: site.ports.mariadb, tlsCa: tls.ca },
      timeoutMs: 600_000,
    });
    if (seeded.status !== 200) throw new JoinError(`seeding the replica failed (${seeded.status}: ${message(seeded.text)})`);
    say(`✓ replica seeded: ${(JSON.parse(seeded.text) as ActionRecordDto).message}`);
  }

  // 5. The services; 6. the page at the current version; 7. registered (other lbs, repl-admin and DNS learn of it).
  await host.startServices(bundle.secrets, (bundle.nodes ?? []).filter((n) => n.name !== site.name));
  const target = await host.primaryVersion(bundle.secrets);
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let served: number | null = null;
  while ((served = await host.pageVersion().catch(() => null)) === null || served < target) {
    if (Date.now() > deadline) throw new JoinError(`the page does not serve version ${target} (the primary's) after ${(o.timeoutMs ?? 120_000) / 1000} s; it serves ${served ?? 'nothing'}`);
    await sleep(250);
  }
  say(`✓ the page is served at version ${served} (the primary holds ${target})`);
  await register(site, host.apiUrl, bundle.secrets['VITA_ADMIN_TOKEN'], 'active');
  say(`✓ ${site.name} registered as active`);
}

/** PUT (or DELETE, for `null`) this node's row of the topology through its own api. */
async function register(site: NodeSite, apiUrl: string, token: string | undefined, state: 'active' | 'leaving' | null): Promise<void> {
  if (!token) throw new JoinError(`${SECRETS_FILE(site)} has no VITA_ADMIN_TOKEN: run join first`);
  const url = `${apiUrl}/api/v1/sites/nodes/${site.name}`;
  const peerHost = site.address.includes(':') ? `[${site.address}]` : site.address;
  const res = await fetch(url, {
    method: state === null ? 'DELETE' : 'PUT',
    headers: { authorization: `Bearer ${token}`, ...(state === null ? {} : { 'content-type': 'application/json' }) },
    body: state === null ? undefined : JSON.stringify({ address: site.address, dbPort: site.ports.mariadb, peerUrl: `https://${peerHost}:${site.ports.lbPeer}`, state }),
    signal: AbortSignal.timeout(30_000),
  }).catch((err: Error) => {
    throw new ApiUnreachable(`the node's api (${url}) does not answer: ${err.message}`);
  });
  if (!res.ok) throw new JoinError(`the node's api refused to ${state === null ? 'remove' : `register`} ${site.name} (${res.status}: ${message(await res.text())})`);
}

/**
 * Takes this node out of the topology: marked leaving (other lbs stop using it), removed, its services
 * stopped, its replication stopped and forgotten. Safe to run again; its data stays on disk.
 */
export async function leaveSite(site: NodeSite, host: NodeHost, o: JoinOptions): Promise<void> {
  const { say } = o;
  const secrets = existsSync(SECRETS_FILE(site)) ? readFileSync(SECRETS_FILE(site), 'utf8') : '';
  const token = /^VITA_ADMIN_TOKEN=(.*)$/m.exec(secrets)?.[1];
  try {
    await register(site, host.apiUrl, token, 'leaving');
    await register(site, host.apiUrl, token, null);
    say(`✓ ${site.name} removed from the topology`);
  } catch (err) {
    // An api that refuses stops the leave (nothing is stopped); one that is down already (a leave run
    // again) does not: the row is then removed through any other node's api.
    if (!(err instanceof ApiUnreachable)) throw err;
    say(`! ${err.message}: the topology may still list ${site.name} (DELETE /api/v1/sites/nodes/${site.name} through any node's api with the admin token)`);
  }
  await host.stopServices();
  say('✓ services stopped');
  await host.startReplica();
  await host.local([
    { sql: 'STOP REPLICA', params: [] },
    { sql: 'RESET REPLICA ALL', params: [] },
  ]);
  say('✓ replication stopped and forgotten (the data stays on disk)');
}
