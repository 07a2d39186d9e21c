import type { AlertNotifier } from '@vita/runtime';
import type { DnsProvider } from '@vita/dns-providers';
import type { DnsConfig } from '../config/config';
import type { DnsAudit, DnsAuditRecord } from '../drain/audit';
import type { DrainStore } from '../drain/drain-store';
import type { DrainRecord, Endpoint, ProbeResult, VantageView } from '../model';
import type { PeerStatus, Peers } from '../peers/peer-client';
import { decide, type Decision, type EndpointDecision, type Memory } from '../policy/decide';
import { judge, viewOf, type Judgement } from '../policy/hysteresis';
import { ProviderLane, type LaneLog, type LaneStatus, type Records } from '../publish/lane';
import type { DnsMetrics } from '../status/metrics';

export interface EngineDeps {
  config: DnsConfig;
  providers: DnsProvider[];
  probe: (e: Endpoint) => Promise<ProbeResult>;
  peers: Peers;
  drains: DrainStore;
  audit: DnsAudit;
  alerts: AlertNotifier;
  metrics: DnsMetrics;
  log: LaneLog & { debug?(msg: string): void };
}

/** The whole picture, for the status page, its JSON and the CLI. */
export interface DnsStatus {
  name: string;
  vantage: string;
  ttl: number;
  rounds: number;
  /** DNS may be changed: a majority of the vantage points heard from, and this controller's first round done. */
  quorum: boolean;
  vantages: { configured: number; heard: string[] };
  records: Records;
  failOpen: string[];
  endpoints: Array<EndpointDecision & { here: { up: boolean; since: string; last: ProbeResult | null } | null }>;
  drains: DrainRecord[];
  providers: LaneStatus[];
  peers: PeerStatus[];
  settings: { intervalMs: number; timeoutMs: number; fall: number; rise: number; minHoldMs: number; staleAfterS: number; convergeIntervalMs: number };
}

export interface DrainAnswer {
  record: DnsAuditRecord;
  /** Whether every provider now serves the records without (drain) or with (undrain) the node. */
  published: Array<{ provider: string; ok: boolean; error: string | null }>;
  /** Drain: when it is safe to work on the node (withdrawal + TTL + the 60 s browsers keep an answer). */
  safeAt: string | null;
}

/** How long browsers keep an answer whatever its TTL (Chrome: at least 60 s). */
export const BROWSER_CACHE_MS = 60_000;

export class DrainRefused extends Error {}

/** How long a drain or undrain waits for the providers before it answers (Route 53 may take minutes to be INSYNC). */
export const DRAIN_WAIT_MS = 30_000;

/**
 * The controller: every interval it probes each node address as a visitor would, judges it with
 * fall/rise, shares its view with its peers and takes theirs, decides (policy/decide.ts) and, when it
 * may, brings every provider to that decision.
 */
export class Engine {
  private readonly judgements = new Map<string, Judgement>();
  private rounds = 0;
  private memory = new Map<string, Memory>();
  private decision: Decision | null = null;
  private lastConverge = 0;
  private roundsWithoutQuorum = 0;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = false;
  readonly lanes: ProviderLane[];

  constructor(private readonly d: EngineDeps) {
    const { metrics } = d;
    this.lanes = d.providers.map(
      (p) =>
        new ProviderLane(p, d.config.name, d.config.env.DNS_TTL, d.log, {
          update: (provider, type) => metrics.updates.inc({ provider, type }),
          correction: (provider, type) => metrics.corrections.inc({ provider, type }),
          failure: (provider, kind) => metrics.updateErrors.inc({ provider, kind }),
        }),
    );
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
    await Promise.all([...this.exchanges]);
    await Promise.all(this.lanes.map((l) => l.close()));
    await Promise.all(this.d.providers.map((p) => p.close?.()));
  }

  /** Exchanges with the peers still under way (each bounded): stop() waits for them. */
  private readonly exchanges = new Set<Promise<void>>();

  private track(exchange: Promise<void>): void {
    this.exchanges.add(exchange);
    void exchange.finally(() => this.exchanges.delete(exchange));
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.current = this.round()
        .catch((err: Error) => this.d.log.error(`round failed: ${err.message}`))
        .finally(() => {
          this.current = null;
          this.schedule(Math.max(0, this.d.config.env.DNS_PROBE_INTERVAL_MS - (Date.now() - started)));
        });
    }, delay);
  }

  /** One round: probe every endpoint at once, share views, decide, publish. */
  async round(): Promise<void> {
    const { config, metrics } = this.d;
    const rules = { fall: config.env.DNS_FALL, rise: config.env.DNS_RISE };
    const results = await Promise.all(config.endpoints.map(async (e) => [e, await this.d.probe(e)] as const));
    const now = Date.now();
    for (const [e, result] of results) {
      const before = this.judgements.get(e.key);
      const after = judge(before, result, rules, now);
      this.judgements.set(e.key, after);
      metrics.probes.inc({ node: e.node, address: e.address, result: result.ok ? 'ok' : 'failed' });
      if (before !== undefined && before.up !== after.up) this.d.log.warn(`${e.key} is ${after.up ? 'up' : 'down'} from ${config.vantage}: ${result.ok ? `${rules.rise} good probes` : result.error}`);
    }
    this.rounds++;
    // Neither the peers nor the providers hold up the round: answers and publications come when they
    // come (each bounded), and the next round starts on time.
    void this.decideAndPublish(false);
    this.track(
      this.d.peers.exchange(this.view(), (answer) => {
        if (this.stopped) return;
        this.takeDrains(answer.drains);
        void this.decideAndPublish(false);
      }),
    );
  }

  /** Drains learned from a peer (or taken here); a state file that cannot be written is said, and the drain stays in force. */
  private takeDrains(records: DrainRecord[]): boolean {
    const { changed, saveError } = this.d.drains.merge(records);
    if (saveError) {
      this.d.log.error(`${saveError}; the drain state is kept in memory`);
      this.d.alerts.raise({ key: 'state-file', summary: `the dns controller on ${this.d.config.vantage}: ${saveError}` });
    } else if (changed) this.d.alerts.clear('state-file');
    return changed;
  }

  /** This controller's view, as shared with its peers. */
  view(): VantageView {
    return {
      vantage: this.d.config.vantage,
      at: new Date().toISOString(),
      rounds: this.rounds,
      endpoints: [...this.judgements].map(([key, j]) => viewOf(key, j)),
      drains: this.d.drains.all(),
    };
  }

  /** A view a peer pushed: taken in (its drains too); answered with this controller's own view and the ones it relays. */
  receive(body: unknown): { view: VantageView } | { refused: string } {
    if (this.stopped) return { refused: 'this controller is shutting down' };
    const got = this.d.peers.receive(body);
    if (!('view' in got)) return got;
    if (this.takeDrains(got.view.drains)) void this.decideAndPublish(false);
    return { view: { ...this.view(), heard: this.d.peers.heard() } };
  }

  /** Decides from the fresh views and, with quorum after a first full round, publishes; resolves when every provider's attempt is over. */
  async decideAndPublish(converge: boolean): Promise<void> {
    // Stopped: an answer or a push arriving now changes nothing.
    if (this.stopped) return;
    const { config, metrics } = this.d;
    const now = Date.now();
    const own = this.rounds > 0 ? [this.view()] : [];
    const views = [...own, ...this.d.peers.fresh(now).filter((v) => v.rounds > 0)];
    const decision = decide({
      endpoints: config.endpoints,
      views,
      vantages: 1 + config.peers.length,
      drains: new Map(this.d.drains.all().map((r) => [r.node, r])),
      memory: this.memory,
      now,
      settings: { minHoldMs: config.env.DNS_MIN_HOLD_MS, staleAfterMs: config.env.DNS_STALE_AFTER_S * 1000 },
    });
    const mayWrite = decision.quorum && this.rounds > 0;
    this.observe(decision, views, mayWrite);
    this.decision = decision;
    if (!mayWrite) return;
    this.memory = decision.memory;
    const due = converge || now - this.lastConverge >= config.env.DNS_CONVERGE_INTERVAL_MS;
    if (due) this.lastConverge = now;
    if (decision.keptDrained) this.d.alerts.raise({ key: 'all-drained', summary: `every node of ${config.name} is drained: ${decision.keptDrained}, drained last, is kept in` });
    else this.d.alerts.clear('all-drained');
    await Promise.all(this.lanes.map((l) => l.sync(decision.records, due)));
    for (const l of this.lanes) {
      metrics.providerOk.set({ provider: l.provider.id }, l.status.state === 'ok' ? 1 : 0);
      const key = `provider:${l.provider.id}`;
      if (l.status.consecutiveErrors >= 3) this.d.alerts.raise({ key, summary: `cannot publish ${config.name} to ${l.provider.id}: ${l.status.lastError?.message ?? ''}`, detail: { provider: l.provider.id, kind: l.status.lastError?.kind } });
      else if (l.status.state === 'ok') this.d.alerts.clear(key);
    }
  }

  /** Metrics, logs and alerts of a decision. */
  private observe(decision: Decision, views: VantageView[], mayWrite: boolean): void {
    const { metrics, config, alerts, log } = this.d;
    metrics.up.reset();
    for (const v of views) for (const e of v.endpoints) {
      const ep = config.endpoints.find((x) => x.key === e.key);
      if (ep) metrics.up.set({ node: ep.node, address: ep.address, vantage: v.vantage }, e.up ? 1 : 0);
    }
    metrics.quorum.set(mayWrite ? 1 : 0);
    this.d.peers.status.forEach((p) => metrics.peerUp.set({ peer: p.vantage ?? p.url }, p.ok ? 1 : 0));
    for (const node of config.nodes) metrics.drained.set({ node }, this.d.drains.get(node)?.drained ? 1 : 0);
    if (!mayWrite) {
      if (this.rounds > 0 && ++this.roundsWithoutQuorum === 3) log.warn(`no quorum: ${views.length} of ${1 + config.peers.length} vantage points heard from; DNS is left as it is`);
      if (this.roundsWithoutQuorum >= 3) alerts.raise({ key: 'quorum', summary: `the dns controller on ${config.vantage} hears from ${views.length} of ${1 + config.peers.length} vantage points: it changes nothing until a majority answers` });
      return;
    }
    if (this.roundsWithoutQuorum >= 3) log.info('quorum is back');
    this.roundsWithoutQuorum = 0;
    alerts.clear('quorum');
    for (const e of decision.endpoints) {
      const before = this.memory.get(e.key);
      metrics.published.set({ node: e.node, address: e.address }, e.published ? 1 : 0);
      const since = decision.memory.get(e.key)?.since;
      if (since !== undefined) metrics.lastChange.set({ node: e.node, address: e.address }, Math.round(since / 1000));
      if (before !== undefined && before.published !== e.published) log.warn(`${e.key} ${e.published ? 'is published again' : 'is withdrawn'}: ${e.reason}`);
      const key = `withdrawn:${e.key}`;
      if (!e.published && e.verdict !== 'drained') alerts.raise({ key, summary: `${e.node} (${e.address}) is withdrawn from ${config.name}: ${e.reason}`, detail: { node: e.node, address: e.address, verdict: e.verdict } });
      else alerts.clear(key);
    }
    for (const type of decision.failOpen) if (!this.decision?.failOpen.includes(type)) log.warn(`every ${type} record of ${config.name} is withdrawn on its merits: publishing them all (fail open)`);
  }

  /**
   * An operator's drain (or undrain) of a node: recorded, shared with the peers at once, published;
   * resolves once every provider's attempt is over. A drain that would leave no node published is refused.
   */
  async setDrain(node: string, drained: boolean, reason: string): Promise<DrainAnswer> {
    const { config, audit, drains } = this.d;
    const action = drained ? 'drain' : 'undrain';
    if (!config.nodes.includes(node)) throw new DrainRefused(`no node ${node}: the nodes are ${config.nodes.join(', ')}`);
    const others = config.nodes.filter((n) => n !== node && !drains.get(n)?.drained);
    if (drained && others.length === 0) {
      const record = audit.record({ action, node, reason, outcome: 'refused', message: 'it is the last node not drained: draining it would leave nothing to publish', by: config.vantage });
      throw new DrainRefused(record.message);
    }
    const record: DrainRecord = { node, drained, seq: drains.nextSeq(node), reason, at: new Date().toISOString(), by: config.vantage };
    // Audited before it takes effect: a crash from here on leaves the record of who did it and why.
    audit.record({ action, node, reason, outcome: 'accepted', message: drained ? `drained: withdrawing ${node} from every provider` : `undrained: ${node} may be published again`, by: config.vantage });
    const { saveError } = drains.merge([record]);
    if (saveError) this.d.log.error(`${saveError}; the drain state is kept in memory`);
    const view = this.view();
    // Shared with the peers at once; published on every provider, waiting at most DRAIN_WAIT_MS (what is not done by then goes on).
    const exchange = this.d.peers.exchange(view, (answer) => void (this.stopped || this.takeDrains(answer.drains)), true);
    this.track(exchange);
    const deadline = Date.now() + DRAIN_WAIT_MS;
    const within = (work: Promise<unknown>) => Promise.race([work, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    const merged = JSON.stringify(drains.all());
    await within(Promise.all([exchange, this.decideAndPublish(true)]));
    // The peers' answers brought other drains (actions taken there meanwhile): decide and publish again.
    if (JSON.stringify(drains.all()) !== merged) await within(this.decideAndPublish(false));
    // Another action on the node, taken at the same moment on another controller, may have won.
    const now = drains.get(node);
    if (now !== undefined && (now.seq !== record.seq || now.by !== record.by || now.at !== record.at)) {
      const lost = `superseded by ${now.by}'s ${now.drained ? 'drain' : 'undrain'} of ${node} at ${now.at} (reason: ${now.reason}), taken at the same moment: ${node} is ${now.drained ? 'drained' : 'not drained'}`;
      audit.record({ action, node, reason, outcome: 'superseded', message: lost, by: config.vantage });
      throw new DrainRefused(lost);
    }
    const addresses = new Set(config.endpoints.filter((e) => e.node === node).map((e) => e.address));
    const published = this.lanes.map((l) => {
      const wants = this.decision?.records ?? {};
      // A drain is done only where no set served holds one of the node's addresses any more.
      const stillServed = drained && Object.values(l.status.served ?? {}).some((set) => set?.values.some((v) => addresses.has(v)));
      const ok = l.status.state === 'ok' && l.serves(wants) && !stillServed;
      return { provider: l.provider.id, ok, error: ok ? null : (l.status.lastError?.message ?? (!this.decision?.quorum ? 'no quorum: DNS is left as it is' : stillServed ? `it still serves ${node}` : 'not published yet')) };
    });
    const servedTtl = Math.max(config.env.DNS_TTL, ...this.lanes.flatMap((l) => Object.values(l.status.served ?? {}).map((s) => s?.ttl ?? 0)));
    const allPublished = published.every((p) => p.ok);
    const kept = drained && this.decision?.keptDrained === node;
    const safeAt = drained && allPublished && !kept ? new Date(Date.now() + servedTtl * 1000 + BROWSER_CACHE_MS).toISOString() : null;
    const notYet = () => published.filter((p) => !p.ok).map((p) => `${p.provider}: ${p.error}`).join('; ');
    const message = kept
      ? `drained, but kept in: every node is drained and ${node} was drained last, so it still takes visitors`
      : drained
        ? allPublished
          ? `withdrawn from ${published.map((p) => p.provider).join(', ')}; safe to work on ${node} after ${safeAt} (TTL ${servedTtl} s + the 60 s browsers keep an answer)`
          : `drained, but not yet withdrawn everywhere: ${notYet()}; it is retried`
        : allPublished
          ? `back in ${config.name} on ${published.map((p) => p.provider).join(', ')} as soon as its probes say it is up`
          : `undrained, not yet published everywhere: ${notYet()}`;
    const done = audit.record({ action, node, reason, outcome: 'done', message: saveError ? `${message}; NOT SAVED: ${saveError}` : message, by: config.vantage });
    return { record: done, published, safeAt };
  }

  status(): DnsStatus {
    const { config } = this.d;
    const env = config.env;
    const d = this.decision;
    const heard = [...(this.rounds > 0 ? [config.vantage] : []), ...this.d.peers.fresh().filter((v) => v.rounds > 0).map((v) => v.vantage)];
    return {
      name: config.name,
      vantage: config.vantage,
      ttl: env.DNS_TTL,
      rounds: this.rounds,
      quorum: (d?.quorum ?? false) && this.rounds > 0,
      vantages: { configured: 1 + config.peers.length, heard },
      records: d?.records ?? {},
      failOpen: d?.failOpen ?? [],
      endpoints: (d?.endpoints ?? []).map((e) => {
        const j = this.judgements.get(e.key);
        return { ...e, here: j ? viewOf(e.key, j) : null };
      }),
      drains: this.d.drains.all(),
      providers: this.lanes.map((l) => l.status),
      peers: this.d.peers.status,
      settings: { intervalMs: env.DNS_PROBE_INTERVAL_MS, timeoutMs: env.DNS_PROBE_TIMEOUT_MS, fall: env.DNS_FALL, rise: env.DNS_RISE, minHoldMs: env.DNS_MIN_HOLD_MS, staleAfterS: env.DNS_STALE_AFTER_S, convergeIntervalMs: env.DNS_CONVERGE_INTERVAL_MS },
    };
  }
}
