import {
  Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '../provider';
import { classify, describeFailure, Operation, toProviderError } from './errors';
import { fqdn, sameName } from './names';
import { backoffDelay, RateLimiter } from './pacing';
import { ResolvedRoute53Settings } from './settings';

/** Items per ListResourceRecordSets page, and the pages read for one name (A, AAAA, TXT and a few other types fit in one). */
const PAGE_ITEMS = 10;
const MAX_PAGES = 5;
/** Added to the limiter's one-second window: Route 53 counts by its own clock, after the network's jitter. */
const WINDOW_GUARD_MS = 100;

/**
 * The three Route 53 calls every writer here needs, for one hosted zone, with the discipline they share.
 *
 * Every request waits its turn at a client-side rate limiter (never more than `requestsPerSecond`
 * within any second) and is bounded by `timeoutMs` twice over: the HTTP handler's connection,
 * request and socket-idle timeouts, and an abort signal that also covers credential resolution.
 * Throttled answers are retried here with backoff; the SDK's own retries are off (maxAttempts 1)
 * so the two never multiply and the limiter sees every request that goes on the wire.
 */
export class Route53Api {
  readonly secrets: string[];
  private readonly client: Route53Client;
  private readonly limiter: RateLimiter;
  private readonly lifetime = new AbortController();

  constructor(readonly settings: ResolvedRoute53Settings) {
    const s = settings;
    this.secrets = [s.credentials?.secretAccessKey, s.credentials?.sessionToken].filter((x): x is string => !!x);
    this.limiter = new RateLimiter(s.requestsPerSecond, 1000 + WINDOW_GUARD_MS);
    this.client = new Route53Client({
      region: s.region,
      endpoint: s.endpoint,
      credentials: s.credentials,
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: s.timeoutMs,
        requestTimeout: s.timeoutMs,
        throwOnRequestTimeout: true,
        socketTimeout: s.timeoutMs,
      },
    });
  }

  /** The listed sets named `n`, from its first `startType` set on (paging while the next page may still hold `n`). */
  async listSetsOf(n: string, startType: 'A' | 'TXT'): Promise<ResourceRecordSet[]> {
    const out: ResourceRecordSet[] = [];
    let start: { name: string; type: string; identifier?: string } | undefined = { name: fqdn(n), type: startType };
    for (let page = 0; start && page < MAX_PAGES; page++) {
      const from: { name: string; type: string; identifier?: string } = start;
      const answer = await this.call('ListResourceRecordSets', n, (abortSignal) =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.settings.hostedZoneId,
            StartRecordName: from.name,
            StartRecordType: from.type as 'A',
            StartRecordIdentifier: from.identifier,
            MaxItems: PAGE_ITEMS,
          }),
          { abortSignal },
        ),
      );
      const sets = answer.ResourceRecordSets ?? [];
      const mine = sets.filter((s) => sameName(s.Name ?? '', n));
      out.push(...mine);
      const more = answer.IsTruncated && mine.length === sets.length && sameName(answer.NextRecordName ?? '', n);
      start = more ? { name: answer.NextRecordName ?? '', type: answer.NextRecordType ?? '', identifier: answer.NextRecordIdentifier } : undefined;
    }
    return out;
  }

  /** Sends one atomic change batch; resolves with its change id and status (not yet waited for). */
  async change(subject: string, changes: Change[]): Promise<{ id: string; status: string | undefined }> {
    const answer = await this.call('ChangeResourceRecordSets', subject, (abortSignal) =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.settings.hostedZoneId,
          ChangeBatch: { Comment: `vita dns (${this.settings.id})`, Changes: changes },
        }),
        { abortSignal },
      ),
    );
    return { id: answer.ChangeInfo?.Id ?? '', status: answer.ChangeInfo?.Status };
  }

  /** Polls GetChange until the change is INSYNC, within syncTimeoutMs. */
  async waitInSync(subject: string, changeId: string, status: string | undefined): Promise<void> {
    const { syncTimeoutMs, syncPoll } = this.settings;
    const deadline = performance.now() + syncTimeoutMs;
    let delay = syncPoll.initialMs;
    while (status !== 'INSYNC') {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new ProviderError('unreachable', `route53 GetChange ${subject}: change ${changeId} was not INSYNC within ${syncTimeoutMs} ms (last status ${status ?? 'unknown'})`);
      }
      await this.pause(Math.min(delay, left));
      delay = Math.min(syncPoll.maxMs, delay * 1.5);
      const answer = await this.call('GetChange', subject, (abortSignal) => this.client.send(new GetChangeCommand({ Id: changeId }), { abortSignal }));
      status = answer.ChangeInfo?.Status;
    }
  }

  close(): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort();
    this.client.destroy();
  }

  /** One request: limiter turn, bounded send, and retries of throttled (and, for reads, 5xx) answers. */
  private async call<T>(op: Operation, subject: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { attempts, baseDelayMs, maxDelayMs } = this.settings.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.limiter.acquire(this.lifetime.signal);
        return await this.bounded(op, subject, run);
      } catch (e) {
        if (this.lifetime.signal.aborted) throw new ProviderError('unreachable', `route53 ${op} ${subject}: the provider was closed`);
        if (e instanceof ProviderError) throw e;
        const failure = describeFailure(e);
        const verdict = classify(failure, op);
        if (!verdict.retry || attempt >= attempts) throw toProviderError(failure, verdict, op, subject, this.secrets);
      }
      await this.pause(backoffDelay(attempt, baseDelayMs, maxDelayMs));
    }
  }

  /** `run` bounded by timeoutMs even where the SDK does not look at the signal (e.g. resolving credentials). */
  private async bounded<T>(op: Operation, subject: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { timeoutMs } = this.settings;
    const ctl = new AbortController();
    const onClose = () => ctl.abort();
    this.lifetime.signal.addEventListener('abort', onClose, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ProviderError('unreachable', `route53 ${op} ${subject}: no answer within ${timeoutMs} ms`));
        ctl.abort();
      }, timeoutMs);
    });
    try {
      return await Promise.race([run(ctl.signal), expired]);
    } finally {
      clearTimeout(timer);
      this.lifetime.signal.removeEventListener('abort', onClose);
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.lifetime.signal });
    } catch {
      throw new ProviderError('unreachable', 'route53: the provider was closed');
    }
  }
}
