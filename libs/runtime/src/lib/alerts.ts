/** One open problem, alerted once under its `key` however many checks see it. */
export interface AlertProblem {
  key: string;
  /** One line for people (and chat webhooks). */
  summary: string;
  /** Anything else the payload carries. */
  detail?: Record<string, unknown>;
}

export interface AlertSink {
  warn(line: string): void;
  info(line: string): void;
  error(line: string): void;
}

export interface AlertOptions {
  /** Webhook URL (JSON POST); unset: alerts are only logged. Never logged itself. */
  url: string | undefined;
  /** An open problem is posted again after this long. */
  repeatMs: number;
  /** Each delivery is bounded by this. */
  timeoutMs?: number;
  /** Counts deliveries by event and result. */
  counted?: (event: 'problem' | 'resolved', result: 'sent' | 'failed') => void;
}

/**
 * An alert webhook with de-duplication: `raise` posts a problem once, again only after `repeatMs`;
 * `clear` posts `resolved` for a problem that was posted. Deliveries are bounded; a failed one is
 * logged without the URL.
 */
export class AlertNotifier {
  private readonly open = new Map<string, { problem: AlertProblem; lastSent: number }>();
  private deliveries: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: AlertOptions,
    private readonly log: AlertSink,
  ) {}

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  raise(problem: AlertProblem, now = Date.now()): void {
    const entry = this.open.get(problem.key);
    if (entry !== undefined && now - entry.lastSent < this.options.repeatMs) {
      entry.problem = problem;
      return;
    }
    this.open.set(problem.key, { problem, lastSent: now });
    this.send('problem', problem, now);
  }

  clear(key: string, now = Date.now()): void {
    const entry = this.open.get(key);
    if (entry === undefined) return;
    this.open.delete(key);
    this.send('resolved', entry.problem, now);
  }

  /** Resolves once every alert queued so far has been delivered or has failed. */
  settled(): Promise<unknown> {
    return this.deliveries;
  }

  private send(event: 'problem' | 'resolved', p: AlertProblem, now: number): void {
    const text = event === 'resolved' ? `resolved: ${p.summary}` : p.summary;
    if (event === 'problem') this.log.warn(`alert: ${text}`);
    else this.log.info(`alert: ${text}`);
    const url = this.options.url;
    if (!url) return;
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const body = JSON.stringify({ event, key: p.key, summary: p.summary, ...p.detail, at: new Date(now).toISOString(), text });
    const delivery = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        this.options.counted?.(event, 'sent');
      })
      .catch((err: Error) => {
        this.options.counted?.(event, 'failed');
        this.log.error(`alert webhook delivery failed: ${err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : err.message.split(url).join('<webhook>')}`);
      });
    this.deliveries = Promise.all([this.deliveries, delivery]);
  }
}
