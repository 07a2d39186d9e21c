import type { LbAcmeNameStats, LbAcmeStats } from '@vita/contracts';
import type { TxtRecords } from '@vita/dns-providers';
import * as acme from 'acme-client';
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isValidToken } from './challenge-store';
import { Dns01Challenges } from './dns01';
import { writeFileAtomic, writeFilesAtomic } from './files';
import { backoffDelay, CertFacts, daysLeft, isProblem, MAX_TIMER_MS, nextCheckDelay, oneLine, renewalPoint, renewReason, RenewReason } from './policy';
import { probeDirectory, registerAcmeOrigin } from './transport';

export const LETS_ENCRYPT_PRODUCTION = acme.directory.letsencrypt.production;

export interface AcmeSettings {
  /** ACME directory (default: Let's Encrypt production). */
  directoryUrl?: string;
  /** Account contact (`mailto:`), optional. */
  email?: string;
  /** DNS names the one certificate must cover (the first is its common name); a wildcard (`*.example.com`) only with dns01. */
  names: string[];
  /** The account's private key (PEM): created once with mode 0600 when missing, reused after. Never logged. */
  accountKeyFile: string;
  /** Where the certificate chain (PEM) is written, atomically. */
  certFile: string;
  /** Where its private key (PEM) is written, atomically, mode 0600. */
  keyFile: string;
  /** Shared folder for HTTP-01 key authorizations (`<challengeDir>/<token>`), served by FileChallengeStore; required without dns01. */
  challengeDir?: string;
  /**
   * Validate with DNS-01 instead of HTTP-01: each challenge's value is published as a TXT record at
   * `_acme-challenge.<name>` before the CA is asked to check it, and removed after, however the order
   * ends. Allows wildcard names. From @vita/dns-providers' txtRecordsFrom(); its owner closes it.
   */
  dns01?: TxtRecords;
  /** With dns01: how long to wait after publishing before asking the CA to validate (secondary servers catching up); default 0. */
  dns01PropagationMs?: number;
  /** An extra trusted root for the ACME server's own HTTPS (PEM text or a file path), e.g. pebble's. */
  ca?: string;
  /** Renew once this fraction of the lifetime has passed (default 2/3). */
  renewAt?: number;
  /** Renewal starts up to this fraction of the lifetime earlier, at random per certificate (default 0.05). */
  jitter?: number;
  /** First retry delay after a failure (default 60 s), doubled per failure… */
  retryMinMs?: number;
  /** …up to this (default 1 h). */
  retryMaxMs?: number;
  /** A good certificate is checked again at least this often (default 12 h). */
  checkEveryMs?: number;
  /** Bound on each ACME HTTP request (default 30 s). */
  timeoutMs?: number;
  /** Bound on a whole attempt: every request and poll of one order (default 120 s). */
  attemptTimeoutMs?: number;
  /** onProblem fires when renewal fails and the certificate expires within this many days (default 14). */
  problemDays?: number;
  /** Called after new files are in place (lb reloads its certificates). */
  onRenewed?: (info: RenewedInfo) => void;
  /** Called when renewal is failing and expiry is near (lb logs at error level and alerts). */
  onProblem?: (problem: AcmeProblem) => void;
  /** The clock (tests). */
  now?: () => Date;
}

export interface RenewedInfo {
  names: string[];
  reason: RenewReason;
  certFile: string;
  keyFile: string;
  notBefore: Date;
  notAfter: Date;
  issuer: string;
}

export interface AcmeProblem {
  names: string[];
  /** Undefined when there is no usable certificate at all. */
  daysLeft?: number;
  notAfter?: Date;
  /** One line, no secret. */
  error: string;
  failures: number;
}

/** What /stats shows of the ACME side (the contract), plus the account's URL. */
export type AcmeState = LbAcmeStats['state'];
export type AcmeNameStatus = LbAcmeNameStats;
export interface AcmeStatus extends LbAcmeStats {
  accountUrl?: string;
}

export interface EnsureResult {
  renewed: boolean;
  reason?: RenewReason;
}

interface OnDisk extends CertFacts {
  issuer: string;
  fingerprint: string;
}

const NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** What one order does with its challenges: publish each, take each down, and clean up whatever is left. */
interface ChallengeFlow {
  type: 'http-01' | 'dns-01';
  create(authz: acme.Authorization, challenge: { type: string; token: string }, keyAuthorization: string): Promise<void>;
  remove(authz: acme.Authorization, challenge: { type: string; token: string }, keyAuthorization: string): Promise<void>;
  /** Runs once the order has ended, however it ended; resolves with what could not be cleaned up (one line each). */
  cleanup(): Promise<string[]>;
}

/**
 * Keeps one certificate for `names` valid through ACME (RFC 8555), validated with HTTP-01 or, when
 * dns01 is set, DNS-01. Plain TypeScript: lb wires it up, serves `challengeDir` through
 * FileChallengeStore (HTTP-01), and reloads its certificate files from onRenewed.
 */
export class AcmeManager {
  private readonly s: Required<Omit<AcmeSettings, 'email' | 'ca' | 'onRenewed' | 'onProblem' | 'challengeDir' | 'dns01'>> &
    Pick<AcmeSettings, 'email' | 'onRenewed' | 'onProblem' | 'challengeDir' | 'dns01'>;
  private readonly names: string[];
  private inFlight?: Promise<EnsureResult>;
  private timer?: NodeJS.Timeout;
  private running = false;
  private state: AcmeState = 'idle';
  private failures = 0;
  private lastAttemptAt?: Date;
  private lastSuccessAt?: Date;
  private lastError?: string;
  private nextAttemptAt?: Date;
  private accountUrl?: string;
  private cleanupError?: string;
  private jitterDraw?: { fingerprint: string; random: number };

  constructor(settings: AcmeSettings) {
    const names = (settings.names ?? []).map((n) => n.trim().toLowerCase());
    if (names.length === 0) throw new Error('acme: names must list at least one DNS name');
    for (const n of names) if (!NAME.test(n) || n.length > 253) throw new Error(`acme: names: "${n}" is not a DNS name`);
    const dns01 = settings.dns01;
    if (dns01 !== undefined && (typeof dns01?.add !== 'function' || typeof dns01?.remove !== 'function')) {
      throw new Error('acme: dns01 must be TXT records (add, remove), e.g. from txtRecordsFrom() of @vita/dns-providers');
    }
    const wildcard = names.find((n) => n.startsWith('*.'));
    if (wildcard && !dns01) throw new Error(`acme: names: "${wildcard}" is a wildcard name, which only DNS-01 can validate: set dns01 (TXT records for _acme-challenge)`);
    for (const k of ['accountKeyFile', 'certFile', 'keyFile'] as const) {
      if (!settings[k]) throw new Error(`acme: ${k} is required`);
    }
    if (!dns01 && !settings.challengeDir) throw new Error('acme: challengeDir is required (for HTTP-01; or set dns01)');
    const dns01PropagationMs = settings.dns01PropagationMs ?? 0;
    if (!(Number.isFinite(dns01PropagationMs) && dns01PropagationMs >= 0 && dns01PropagationMs <= 600_000)) {
      throw new Error('acme: dns01PropagationMs must be 0..600000 ms');
    }
    const renewAt = settings.renewAt ?? 2 / 3;
    if (!(renewAt > 0 && renewAt < 1)) throw new Error('acme: renewAt must be a fraction between 0 and 1');
    const jitter = settings.jitter ?? 0.05;
    if (!(jitter >= 0 && jitter < renewAt)) throw new Error('acme: jitter must be at least 0 and below renewAt');
    this.names = [...new Set(names)];
    this.s = {
      directoryUrl: settings.directoryUrl ?? LETS_ENCRYPT_PRODUCTION,
      email: settings.email,
      names: this.names,
      accountKeyFile: settings.accountKeyFile,
      certFile: settings.certFile,
      keyFile: settings.keyFile,
      challengeDir: settings.challengeDir,
      dns01,
      dns01PropagationMs,
      renewAt,
      jitter,
      retryMinMs: settings.retryMinMs ?? 60_000,
      retryMaxMs: settings.retryMaxMs ?? 3_600_000,
      checkEveryMs: settings.checkEveryMs ?? 12 * 3_600_000,
      timeoutMs: settings.timeoutMs ?? 30_000,
      attemptTimeoutMs: settings.attemptTimeoutMs ?? 120_000,
      problemDays: settings.problemDays ?? 14,
      onRenewed: settings.onRenewed,
      onProblem: settings.onProblem,
      now: settings.now ?? (() => new Date()),
    };
    if (new URL(this.s.directoryUrl).protocol !== 'https:') throw new Error('acme: directoryUrl must be https');
    const ca = settings.ca && !settings.ca.includes('-----BEGIN') ? readFileSync(settings.ca, 'utf8') : settings.ca;
    registerAcmeOrigin(this.s.directoryUrl, { ca, timeoutMs: this.s.timeoutMs });
  }

  /** Orders a new certificate when there is none, it misses a name, or it is past its renewal point; otherwise does nothing. Concurrent calls share one attempt. */
  ensure(): Promise<EnsureResult> {
    if (!this.inFlight) {
      this.inFlight = this.attempt().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** Checks now, then again at the renewal point (at least every checkEveryMs), and after a failure with bounded backoff. Timers are unref'd. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Cancels the schedule; resolves once an attempt in flight has settled. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
  }

  status(): AcmeStatus {
    const disk = this.readCert();
    const point = disk ? this.pointFor(disk) : undefined;
    const now = this.s.now();
    const iso = (d?: Date) => d?.toISOString();
    return {
      state: this.state,
      challengeType: this.s.dns01 ? 'dns-01' : 'http-01',
      directoryUrl: this.s.directoryUrl,
      accountUrl: this.accountUrl,
      failures: this.failures,
      cleanupError: this.cleanupError,
      names: this.names.map((name) => ({
        name,
        covered: !!disk && disk.names.includes(name),
        issuer: disk?.issuer,
        notBefore: iso(disk?.notBefore),
        notAfter: iso(disk?.notAfter),
        daysLeft: disk ? daysLeft(disk.notAfter, now) : undefined,
        renewAt: iso(point),
        lastAttemptAt: iso(this.lastAttemptAt),
        lastSuccessAt: iso(this.lastSuccessAt),
        lastError: this.lastError,
        nextAttemptAt: iso(this.nextAttemptAt),
      })),
    };
  }

  private schedule(wantedMs: number): void {
    if (!this.running) return;
    const delayMs = Math.min(Math.max(0, wantedMs), MAX_TIMER_MS); // a longer delay would make Node fire at once
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ensure()
        .catch(() => undefined) // recorded in status(); the next attempt is already computed
        .finally(() => {
          if (this.running && this.nextAttemptAt) this.schedule(Math.max(0, this.nextAttemptAt.getTime() - this.s.now().getTime()));
        });
    }, delayMs);
    this.timer.unref();
    this.nextAttemptAt = new Date(this.s.now().getTime() + delayMs);
  }

  private async attempt(): Promise<EnsureResult> {
    const before = this.readCert();
    const reason = renewReason(before, this.names, this.s.now(), before ? this.pointFor(before) : undefined);
    if (!reason) {
      this.state = 'ok';
      this.planAfterSuccess(before);
      return { renewed: false };
    }
    this.state = 'ordering';
    this.lastAttemptAt = this.s.now();
    try {
      const issued = await this.bounded();
      this.failures = 0;
      this.lastError = undefined;
      this.lastSuccessAt = this.s.now();
      this.state = 'ok';
      this.planAfterSuccess(issued);
      this.callback(() =>
        this.s.onRenewed?.({ names: this.names, reason, certFile: this.s.certFile, keyFile: this.s.keyFile, notBefore: issued.notBefore, notAfter: issued.notAfter, issuer: issued.issuer }),
      );
      return { renewed: true, reason };
    } catch (e) {
      this.failures++;
      this.state = 'failing';
      this.lastError = oneLine(describe(e, this.s.directoryUrl));
      const delay = backoffDelay(this.failures, this.s.retryMinMs, this.s.retryMaxMs, Math.random());
      this.nextAttemptAt = new Date(this.s.now().getTime() + delay);
      if (isProblem(before, true, this.s.now(), this.s.problemDays)) {
        const problem: AcmeProblem = {
          names: this.names,
          daysLeft: before ? daysLeft(before.notAfter, this.s.now()) : undefined,
          notAfter: before?.notAfter,
          error: this.lastError,
          failures: this.failures,
        };
        this.callback(() => this.s.onProblem?.(problem));
      }
      throw new Error(`acme: certificate for ${this.names.join(', ')}: ${this.lastError}`);
    }
  }

  private planAfterSuccess(cert: OnDisk | undefined): void {
    const now = this.s.now();
    this.nextAttemptAt = new Date(now.getTime() + nextCheckDelay(cert ? this.pointFor(cert) : undefined, now, this.s.checkEveryMs));
  }

  /**
   * An order within attemptTimeoutMs: a server that stops answering in the middle (acme-client polls
   * a pending challenge many times) fails the attempt then; an order given up on writes nothing.
   */
  private bounded(): Promise<OnDisk> {
    const abandoned = { value: false };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned.value = true;
        reject(new Error(`the order did not finish within ${Math.round(this.s.attemptTimeoutMs / 1000)} s (the ACME server stopped answering); the certificate in force stays`));
      }, this.s.attemptTimeoutMs);
      timer.unref();
    });
    const order = this.order(abandoned);
    order.catch(() => undefined); // settles later when given up on
    return Promise.race([order, deadline]).finally(() => clearTimeout(timer));
  }

  /** One order; the new files replace the old ones only once the chain is in hand and checked. */
  private async order(abandoned: { value: boolean }): Promise<OnDisk> {
    await probeDirectory(this.s.directoryUrl);
    const client = new acme.Client({
      directoryUrl: this.s.directoryUrl,
      accountKey: this.accountKey(),
      accountUrl: this.accountUrl,
      backoffAttempts: 12,
      backoffMin: 250,
      backoffMax: 3_000,
    });
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const [, csr] = await acme.crypto.createCsr({ commonName: this.names[0], altNames: this.names }, key);
    const flow = this.s.dns01 ? this.dns01Flow(this.s.dns01) : this.http01Flow(this.s.challengeDir as string);
    let chain: string;
    try {
      chain = await client.auto({
        csr,
        email: this.s.email,
        termsOfServiceAgreed: true,
        challengePriority: [flow.type],
        // lb cannot reach itself by its public name from every network (nor ask every authoritative server); the ACME server's validation is the test that counts
        skipChallengeVerification: true,
        challengeCreateFn: (authz, challenge, keyAuthorization) => flow.create(authz, challenge, keyAuthorization),
        challengeRemoveFn: (authz, challenge, keyAuthorization) => flow.remove(authz, challenge, keyAuthorization),
      });
    } finally {
      this.accountUrl = safeAccountUrl(client) ?? this.accountUrl;
      const left = await flow.cleanup();
      if (flow.type === 'dns-01') this.cleanupError = left.length ? left.join('; ') : undefined;
    }
    const issued = parseCert(chain);
    if (!issued) throw new Error('the ACME server returned no certificate');
    const x509 = new X509Certificate(chain);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the issued certificate does not match its key');
    const missing = this.names.filter((n) => !issued.names.includes(n));
    if (missing.length) throw new Error(`the issued certificate misses ${missing.join(', ')}`);
    // Key first, then the chain: a reader that loads in between sees a mismatched pair and keeps its old context.
    if (abandoned.value) throw new Error('the order was given up on');
    // Both written and synced before either is renamed: a full disk or a read-only folder changes neither.
    writeFilesAtomic([
      { file: this.s.keyFile, data: key, mode: 0o600 },
      { file: this.s.certFile, data: chain, mode: 0o644 },
    ]);
    return issued;
  }

  /** HTTP-01: key authorizations as files `<challengeDir>/<token>`, which every node's plain listener serves. */
  private http01Flow(dir: string): ChallengeFlow {
    const written = new Set<string>();
    mkdirSync(dir, { recursive: true });
    return {
      type: 'http-01',
      create: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`unsupported challenge type ${challenge.type} (only http-01)`);
        if (!isValidToken(challenge.token)) throw new Error('the ACME server sent a malformed challenge token');
        writeFileAtomic(join(dir, challenge.token), keyAuthorization, 0o644);
        written.add(challenge.token);
      },
      remove: async (_authz, challenge) => {
        if (isValidToken(challenge.token) && written.delete(challenge.token)) rmSync(join(dir, challenge.token), { force: true });
      },
      cleanup: async () => {
        for (const token of written) rmSync(join(dir, token), { force: true });
        return [];
      },
    };
  }

  /** DNS-01: the key authorization's digest (acme-client's value for dns-01) as a TXT record at `_acme-challenge.<name>`. */
  private dns01Flow(records: TxtRecords): ChallengeFlow {
    const published = new Dns01Challenges(records, this.s.dns01PropagationMs);
    return {
      type: 'dns-01',
      create: async (authz, challenge, digest) => {
        const name = identifierOf(authz);
        if (challenge.type !== 'dns-01') throw new Error(`the ACME server offers no dns-01 challenge for ${name} (it chose ${challenge.type})`);
        await published.publish(name, digest);
      },
      // acme-client ignores what this throws; cleanup() tries again
      remove: (authz, _challenge, digest) => published.unpublish(identifierOf(authz), digest),
      cleanup: () => published.removeAll(),
    };
  }

  /** The account key: read, or created once (mode 0600, never replacing a key another process wrote first). */
  private accountKey(): string {
    try {
      return readFileSync(this.s.accountKeyFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the account key file ${this.s.accountKeyFile}: ${(e as NodeJS.ErrnoException).code}`);
    }
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dir = dirname(this.s.accountKeyFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${basename(this.s.accountKeyFile)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, this.s.accountKeyFile); // fails with EEXIST if another process won the race
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the account key file ${this.s.accountKeyFile}: ${(e as NodeJS.ErrnoException).code}`);
    } finally {
      rmSync(tmp, { force: true });
    }
    return readFileSync(this.s.accountKeyFile, 'utf8');
  }

  private readCert(): OnDisk | undefined {
    let chain: string;
    let key: string;
    try {
      chain = readFileSync(this.s.certFile, 'utf8');
      key = readFileSync(this.s.keyFile, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const cert = parseCert(chain);
      if (!cert || !new X509Certificate(chain).checkPrivateKey(createPrivateKey(key))) return undefined;
      return cert;
    } catch {
      return undefined; // unreadable or mismatched: order a new one
    }
  }

  private pointFor(cert: OnDisk): Date {
    if (this.jitterDraw?.fingerprint !== cert.fingerprint) this.jitterDraw = { fingerprint: cert.fingerprint, random: Math.random() };
    return renewalPoint(cert, this.s.renewAt, this.s.jitter, this.jitterDraw.random);
  }

  private callback(fn: () => void): void {
    try {
      fn();
    } catch {
      // a failing callback must not break renewal; lb logs in its own callback
    }
  }
}

/** The leaf of a PEM chain: validity, DNS names, issuer (one line). */
export function parseCert(chain: string): OnDisk | undefined {
  if (!chain.includes('-----BEGIN CERTIFICATE-----')) return undefined;
  const x = new X509Certificate(chain);
  const names = (x.subjectAltName ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('DNS:'))
    .map((p) => p.slice(4).toLowerCase());
  return {
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    names,
    issuer: x.issuer.split('\n').join(', '),
    fingerprint: x.fingerprint256,
  };
}

/** The name an authorization is for, as ordered: `*.example.com` for a wildcard's (whose identifier is the base name). */
function identifierOf(authz: acme.Authorization): string {
  return authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
}

function safeAccountUrl(client: acme.Client): string | undefined {
  try {
    return client.getAccountUrl();
  } catch {
    return undefined;
  }
}

/** One readable sentence for an ACME failure: the server's problem detail, or the network error and where. */
function describe(e: unknown, directoryUrl: string): string {
  const err = e as { code?: string; message?: string; response?: { status?: number }; syscall?: string; path?: string };
  const where = new URL(directoryUrl).host;
  // A local file (the account key, the certificate, a challenge) that could not be written: not the server's fault.
  if (err?.syscall !== undefined && err.path !== undefined) return `cannot ${err.syscall} ${err.path}: ${err.code ?? 'error'} (this host's disk, not the ACME server)`;
  // acme-client 5.4 turns a network error (once its retries are off) into this TypeError
  if (e instanceof TypeError && /reading 'config'/.test(e.message)) return `ACME server ${where}: connection failed during the order (network error)`;
  if (err?.code === 'ECONNABORTED' || /timeout/i.test(err?.message ?? '')) return `ACME server ${where} did not answer in time (${err.message ?? 'timeout'})`;
  if (err?.code && /^E[A-Z]+$/.test(err.code)) return `ACME server ${where} unreachable: ${err.code}${err.message ? ` (${err.message})` : ''}`;
  return `${err?.message ?? String(e)}`;
}
