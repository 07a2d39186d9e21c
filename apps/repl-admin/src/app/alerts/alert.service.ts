import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ReplicaState, TopologyDto, WarningCode } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { ReplicaLocks } from '../audit/replica-locks';
import { MetricsService } from '../metrics/metrics.service';

/** One open problem, identified by `key` so it is alerted once however many checks see it. */
export interface Problem {
  key: string;
  server: string;
  summary: string;
  cause: string;
  nextStep: string;
  state: ReplicaState | 'PRIMARY_UNREACHABLE' | WarningCode;
  errno: number | null;
  /** Data errors and divergence are alerted at once; the rest after REPL_ALERT_AFTER_SECONDS. */
  urgent: boolean;
}

export interface AlertPayload {
  event: 'problem' | 'resolved';
  key: string;
  server: string;
  state: Problem['state'];
  errno: number | null;
  summary: string;
  cause: string;
  nextStep: string;
  at: string;
  /** One line for chat webhooks (Slack, Mattermost, …). */
  text: string;
}

const URGENT_STATES: ReadonlySet<string> = new Set(['SQL_ERROR', 'DIVERGED', 'BINLOG_PURGED', 'ERRANT_TRANSACTION', 'AUTOMATION_OFF']);
// Errant transactions already make the replica DIVERGED, which is alerted as a state.
const ALERTED_WARNINGS: ReadonlySet<WarningCode> = new Set(['BINLOG_PURGED', 'AUTOMATION_OFF']);

/** The problems a check shows: replicas not OK, the primary unreachable, and the early warnings worth waking someone for. */
export function problemsOf(t: TopologyDto): Problem[] {
  const problems: Problem[] = [];
  if (!t.primary.reachable) {
    problems.push({
      key: `${t.primary.name}:PRIMARY_UNREACHABLE`,
      server: t.primary.name,
      state: 'PRIMARY_UNREACHABLE',
      errno: null,
      summary: `primary ${t.primary.name} is unreachable`,
      cause: t.primary.unreachableReason ?? 'no answer',
      nextStep: 'bring the primary back; writes fail until then, replicas keep serving reads',
      urgent: false,
    });
  }
  for (const r of t.replicas) {
    const errno = r.error?.errno ?? null;
    if (r.state !== 'OK') {
      // A stopped thread's error number names the problem; a connecting one's varies from attempt to attempt.
      const key = r.state === 'SQL_ERROR' || r.state === 'IO_ERROR' ? `${r.name}:${r.state}:${errno}` : `${r.name}:${r.state}`;
      problems.push({ key, server: r.name, state: r.state, errno, summary: `replica ${r.name} is ${r.state}${errno ? ` (error ${errno})` : ''}`, cause: r.cause, nextStep: r.nextStep, urgent: URGENT_STATES.has(r.state) });
    }
    for (const w of r.warnings.filter((w) => ALERTED_WARNINGS.has(w.code))) {
      problems.push({ key: `${r.name}:${w.code}`, server: r.name, state: w.code, errno: null, summary: `replica ${r.name}: ${w.code}`, cause: w.message, nextStep: r.nextStep, urgent: true });
    }
  }
  return problems;
}

/**
 * Optional alert webhook with de-duplication: a problem is posted once when it has lasted long enough, again
 * only after REPL_ALERT_REPEAT_SECONDS, and a `resolved` event follows when it clears. The URL is never logged.
 */
@Injectable()
export class AlertService {
  private readonly logger = new Logger(AlertService.name);
  private readonly open = new Map<string, { problem: Problem; firstSeen: number; lastSent: number | null }>();
  private deliveries: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly metrics: MetricsService,
    private readonly locks: ReplicaLocks,
  ) {}

  /** While an action runs on a replica its passing states (stopped, unconfigured) are neither alerted nor resolved. */
  onTopology(t: TopologyDto, now = Date.now()): void {
    const env = this.config.env;
    const current = new Map(problemsOf(t).map((p) => [p.key, p]));
    const busy = (p: Problem) => this.locks.isHeld(p.server);
    for (const [key, entry] of this.open) {
      if (current.has(key) || busy(entry.problem)) continue;
      this.open.delete(key);
      if (entry.lastSent !== null) this.send('resolved', entry.problem, now);
    }
    for (const [key, problem] of current) {
      if (busy(problem)) continue;
      const entry = this.open.get(key) ?? { problem, firstSeen: now, lastSent: null };
      entry.problem = problem;
      this.open.set(key, entry);
      const due = problem.urgent || now - entry.firstSeen >= env.REPL_ALERT_AFTER_SECONDS * 1000;
      const repeat = entry.lastSent === null || now - entry.lastSent >= env.REPL_ALERT_REPEAT_SECONDS * 1000;
      if (due && repeat) {
        entry.lastSent = now;
        this.send('problem', problem, now);
      }
    }
  }

  /** Resolves once every alert queued so far has been delivered or has failed. */
  settled(): Promise<unknown> {
    return this.deliveries;
  }

  private send(event: AlertPayload['event'], p: Problem, now: number): void {
    const url = this.config.env.REPL_ALERT_WEBHOOK_URL;
    const text = event === 'resolved' ? `resolved: ${p.summary}` : `${p.summary}: ${p.cause}. Next: ${p.nextStep}`;
    if (event === 'problem') this.logger.warn(`alert: ${text}`);
    else this.logger.log(`alert: ${text}`);
    if (!url) return;
    const payload: AlertPayload = { event, key: p.key, server: p.server, state: p.state, errno: p.errno, summary: p.summary, cause: p.cause, nextStep: p.nextStep, at: new Date(now).toISOString(), text };
    const delivery = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), signal: AbortSignal.timeout(5000) })
      .then((res) => {
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        this.metrics.alerts.inc({ event, result: 'sent' });
      })
      .catch((err: Error) => {
        this.metrics.alerts.inc({ event, result: 'failed' });
        this.logger.error(`alert webhook delivery failed: ${err.name === 'TimeoutError' ? 'no answer within 5 s' : err.message.replace(url, '<webhook>')}`);
      });
    this.deliveries = Promise.all([this.deliveries, delivery]);
  }
}
