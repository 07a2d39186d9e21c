import type { LbAcmeStats } from '@vita/contracts';
import { AlertNotifier } from '@vita/runtime';
import type { Logger } from 'pino';
import { AcmeManager, type AcmeProblem, type RenewedInfo } from '../acme';
import { acmeFiles, challengesDirOf, type AcmeConfig, type HttpsConfig } from '../config/config';
import type { TxtRecords } from '@vita/dns-providers';
import { dns01Records, readAcmeCa } from '../config/tls-files';

/** The key under which a failing renewal is alerted (once per repeat interval, resolved by the next success). */
export const ACME_ALERT_KEY = 'lb-certificate-renewal';

/** How long a stop (shutdown, or settings replaced) waits for an order in flight. */
export const STOP_WAIT_MS = 1000;

/**
 * Runs lb's ACME side in the primary process: one AcmeManager for `https.acme` (HTTP-01, or DNS-01
 * through the TXT records of `https.acme.dns01`), started at once and
 * replaced when its settings change on reload. A new certificate makes every process read its files
 * again (`onRenewed`); a renewal that keeps failing close to expiry is logged at error level and
 * posted to the alert webhook.
 */
export class AcmeRunner {
  private manager: AcmeManager | null = null;
  /** apply() and stop() one at a time. */
  private queue: Promise<void> = Promise.resolve();
  /** Counts apply() calls: a queued call that is no longer the newest does nothing. */
  private generation = 0;
  /** DNS-01's TXT records writer, closed with its manager. */
  private records: TxtRecords | null = null;
  private settings = '';

  constructor(
    private readonly log: Logger,
    private readonly alerts: AlertNotifier,
    /** Reads the certificate files again in every process. */
    private readonly reloadCertificates: () => void,
  ) {}

  /**
   * Follows the configuration: starts, replaces or stops the manager. Calls are applied one after the
   * other (a reload while an earlier one waits for an order to settle ends with the latest settings in
   * force, and never two managers). Throws on settings it cannot use.
   */
  apply(https: HttpsConfig | undefined): Promise<void> {
    const generation = ++this.generation;
    // Settings a later call already replaced are skipped: only the newest is ever started.
    const run = this.queue.then(() => (generation === this.generation ? this.applyNow(https, generation) : undefined));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(https: HttpsConfig | undefined, generation: number): Promise<void> {
    const acme = https?.acme;
    // The CA file's content counts too: an operator who replaces it and sends SIGHUP gets a new manager.
    const next = acme === undefined ? '' : JSON.stringify({ acme, challenges: challengesDirOf(https as HttpsConfig), ca: acme.caFile === undefined ? null : readAcmeCa(acme.caFile) });
    if (next === this.settings) return;
    const records = acme?.dns01 === undefined ? null : dns01Records(acme.dns01);
    let manager: AcmeManager | null;
    try {
      manager = acme === undefined ? null : this.create(acme, challengesDirOf(https as HttpsConfig) as string, records);
    } catch (err) {
      records?.close();
      throw err;
    }
    await this.retire();
    if (generation !== this.generation) {
      // Replaced while the old one stopped: the newer call starts what is wanted now.
      records?.close();
      return;
    }
    this.manager = manager;
    this.records = records;
    this.settings = next;
    if (manager !== null) {
      manager.start();
      this.log.info({ names: acme?.names, directoryUrl: acme?.directoryUrl }, 'ACME: keeping a certificate');
    }
  }

  /** Stops the manager in force; an order in flight is waited for at most STOP_WAIT_MS (it writes nothing once given up on). */
  private async retire(): Promise<void> {
    const old = this.manager;
    const oldRecords = this.records;
    this.manager = null;
    this.records = null;
    this.settings = '';
    if (old !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([old.stop(), new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    }
    oldRecords?.close();
  }

  status(): LbAcmeStats | undefined {
    if (this.manager === null) return undefined;
    const { state, directoryUrl, challengeType, failures, cleanupError, names } = this.manager.status();
    return { state, directoryUrl, challengeType, failures, ...(cleanupError === undefined ? {} : { cleanupError }), names };
  }

  /** Shutdown: no new attempt starts; one in flight is not waited for beyond STOP_WAIT_MS. */
  async stop(): Promise<void> {
    this.generation++;
    const run = this.queue.then(() => this.retire());
    this.queue = run.catch(() => undefined);
    await run;
  }

  private create(acme: AcmeConfig, challengeDir: string, records: TxtRecords | null): AcmeManager {
    const files = acmeFiles(acme);
    return new AcmeManager({
      directoryUrl: acme.directoryUrl,
      email: acme.email,
      names: acme.names,
      accountKeyFile: files.accountKey,
      certFile: files.cert,
      keyFile: files.key,
      challengeDir,
      ca: acme.caFile === undefined ? undefined : readAcmeCa(acme.caFile),
      renewAt: acme.renewAt,
      retryMinMs: acme.retryMinMs,
      retryMaxMs: acme.retryMaxMs,
      problemDays: acme.alertDays,
      timeoutMs: acme.timeoutMs,
      attemptTimeoutMs: acme.attemptTimeoutMs,
      ...(records === null ? {} : { dns01: records, dns01PropagationMs: acme.dns01?.propagationMs }),
      onRenewed: (info) => this.renewed(info),
      onProblem: (problem) => this.problem(problem),
    });
  }

  private renewed(info: RenewedInfo): void {
    this.log.info({ names: info.names, reason: info.reason, issuer: info.issuer, notAfter: info.notAfter.toISOString() }, 'ACME: new certificate in place');
    this.reloadCertificates();
    this.alerts.clear(ACME_ALERT_KEY);
  }

  private problem(p: AcmeProblem): void {
    const left = p.daysLeft === undefined ? 'there is no certificate yet' : `the certificate expires in ${p.daysLeft} day(s) (${p.notAfter?.toISOString()})`;
    const summary = `lb: the certificate for ${p.names.join(', ')} cannot be renewed and ${left}: ${p.error}`;
    this.log.error({ names: p.names, daysLeft: p.daysLeft, failures: p.failures, error: p.error }, summary);
    this.alerts.raise({ key: ACME_ALERT_KEY, summary, detail: { names: p.names, daysLeft: p.daysLeft ?? null, notAfter: p.notAfter?.toISOString() ?? null, failures: p.failures, error: p.error } });
  }
}
