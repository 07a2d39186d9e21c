import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RelayedView, VantageView } from '../model';
import { parseExchange } from './view';

/** How one peer controller is doing. */
export interface PeerStatus {
  url: string;
  /** Its vantage name, once it has answered. */
  vantage: string | null;
  ok: boolean;
  lastSeen: string | null;
  error: string | null;
}

const MAX_ANSWER = 1024 * 1024;

/** Sends a JSON body and reads a JSON answer, bounded by `timeoutMs` from the first byte sent to the last read. */
function exchangeJson(url: string, token: string, body: string, timeoutMs: number, ca: string | undefined): Promise<{ status: number; json: unknown }> {
  const u = new URL('/api/v1/peer/view', url);
  const options: RequestOptions = {
    method: 'PUT',
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port || (u.protocol === 'https:' ? 443 : 80),
    path: u.pathname,
    agent: false,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' },
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER) req.destroy(new Error('its answer is too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch {
          reject(new Error(`status ${res.statusCode}, and its answer is not JSON`));
        }
      });
      res.on('error', reject);
    };
    const req = u.protocol === 'https:' ? httpsRequest({ ...options, ca }, onResponse) : httpRequest(options, onResponse);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message)));
    req.end(body);
  });
}

interface Held {
  view: VantageView;
  receivedAt: number;
  /** Heard from its own controller (an answer or a push), not relayed by another. */
  direct: boolean;
}

/**
 * The other controllers. Each round this one sends its view to every peer (and the views it heard
 * straight from the others, so that one that cannot reach a third still counts it) and gets theirs
 * in the answer; peers push theirs the same way. A view counts while it is fresh (received within
 * `freshMs`).
 *
 * Names are bound to peers: a peer URL that answered as `x` is `x` from then on, and a name bound to
 * one URL is refused from another. A view under a name no configured peer has answered with is taken
 * (pushed or relayed) only while fewer names are known than peers are configured, so one peer cannot
 * take several votes by changing its name.
 */
export class Peers {
  private readonly views = new Map<string, Held>();
  /** Peer URL → the name it answered with. */
  private readonly bound = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  readonly status: PeerStatus[];

  constructor(
    readonly urls: string[],
    private readonly own: string,
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
    private readonly freshMs: number,
    private readonly ca: string | undefined,
  ) {
    this.status = urls.map((url) => ({ url, vantage: null, ok: false, lastSeen: null, error: 'not asked yet' }));
  }

  private boundNames(): Set<string> {
    return new Set(this.bound.values());
  }

  /** Takes a view from `from` (a peer URL, or 'push'/'relay'); the reason when it is refused. */
  private take(view: VantageView, from: string, receivedAt: number, direct: boolean, now: number): string | null {
    if (view.vantage === this.own) return `vantage: ${view.vantage} is this controller's own name; give each controller its own DNS_VANTAGE`;
    const names = this.boundNames();
    if (from.startsWith('http')) {
      const was = this.bound.get(from);
      if (was !== undefined && was !== view.vantage) {
        // Renamed for good (its DNS_VANTAGE changed and it restarted): taken once the old name has long been silent.
        const old = this.views.get(was);
        if (old !== undefined && now - old.receivedAt <= 5 * this.freshMs) return `vantage: it answered as ${was} before, now as ${view.vantage}`;
        this.views.delete(was);
      }
      const other = [...this.bound].find(([url, name]) => name === view.vantage && url !== from);
      if (other) return `vantage: ${view.vantage} is the name of ${other[0]}`;
      this.bound.set(from, view.vantage);
      // A name taken in tentatively (pushed or relayed) before its URL answered is now bound; tentative
      // names beyond the peers configured go, oldest first (a peer's former name, relayed back).
      const tentative = [...this.views].filter(([name]) => name !== view.vantage && !this.boundNames().has(name)).sort((a, b) => a[1].receivedAt - b[1].receivedAt);
      while (tentative.length > 0 && this.boundNames().size + tentative.length > this.urls.length) this.views.delete((tentative.shift() as [string, Held])[0]);
    } else if (!names.has(view.vantage)) {
      for (const [k, v] of this.views) if (now - v.receivedAt > this.freshMs && !names.has(k)) this.views.delete(k);
      const known = new Set([...names, ...this.views.keys()]);
      if (!known.has(view.vantage) && known.size >= this.urls.length) return `vantage: ${view.vantage} would be one more than the ${this.urls.length} peer(s) configured`;
    }
    const held = this.views.get(view.vantage);
    // A relayed copy never replaces a fresher one, nor one heard straight from its controller at about the same time.
    if (held && (held.receivedAt > receivedAt || (!direct && held.direct && held.receivedAt >= receivedAt - this.timeoutMs))) return null;
    this.views.set(view.vantage, { view, receivedAt, direct });
    return null;
  }

  /** A view pushed by a peer (with the views it relays); an error message when it is refused. */
  receive(body: unknown, now = Date.now()): { view: VantageView } | { refused: string } {
    let view: VantageView;
    try {
      view = parseExchange(body);
    } catch (err) {
      return { refused: (err as Error).message };
    }
    const refused = this.take({ ...view, heard: undefined }, 'push', now, true, now);
    if (refused) return { refused };
    this.relayed(view, now);
    return { view };
  }

  private relayed(view: VantageView, now: number): void {
    for (const h of view.heard ?? []) this.take(h.view, 'relay', now - h.ageMs, false, now);
  }

  /** The peers' views received within `freshMs` (straight or relayed): never more than the peers configured, bound names first. */
  fresh(now = Date.now()): VantageView[] {
    const names = this.boundNames();
    return [...this.views]
      .filter(([, v]) => now - v.receivedAt <= this.freshMs)
      .sort(([a, x], [b, y]) => Number(names.has(b)) - Number(names.has(a)) || y.receivedAt - x.receivedAt)
      .slice(0, this.urls.length)
      .map(([, v]) => v.view);
  }

  /** What this controller relays: the fresh views it heard straight from their controllers. */
  heard(now = Date.now()): RelayedView[] {
    return [...this.views.values()].filter((v) => v.direct && now - v.receivedAt <= this.freshMs).map((v) => ({ view: { ...v.view, heard: undefined }, ageMs: now - v.receivedAt }));
  }

  /**
   * Sends `view` (with the views this controller relays) to every peer that has no exchange in flight
   * (`urgent`: to every peer, in flight or not, as an operator's drain must be shared at once);
   * `onView` gets each answer as it comes. Resolves when every exchange started has ended (each bounded).
   */
  async exchange(view: VantageView, onView: (v: VantageView) => void = () => undefined, urgent = false): Promise<void> {
    if (this.urls.length === 0 || this.token === undefined) return;
    const body = JSON.stringify({ ...view, heard: this.heard() });
    const token = this.token;
    await Promise.all(
      this.urls.map(async (url, i) => {
        const tracked = !this.inFlight.has(url);
        if (!tracked && !urgent) return;
        if (tracked) this.inFlight.add(url);
        const s = this.status[i];
        try {
          const { status, json } = await exchangeJson(url, token, body, this.timeoutMs, this.ca);
          if (status !== 200) throw new Error(`status ${status}${typeof (json as { message?: unknown })?.message === 'string' ? `: ${(json as { message: string }).message}` : ''}`);
          let answer: VantageView;
          try {
            answer = parseExchange(json);
          } catch (err) {
            throw new Error(`its view is refused (${(err as Error).message})`);
          }
          const now = Date.now();
          const refused = this.take({ ...answer, heard: undefined }, url, now, true, now);
          if (refused) throw new Error(`its view is refused (${refused})`);
          this.relayed(answer, now);
          Object.assign(s, { vantage: answer.vantage, ok: true, lastSeen: new Date(now).toISOString(), error: null });
          onView(answer);
        } catch (err) {
          Object.assign(s, { ok: false, error: (err as Error).message.split('\n')[0] });
        } finally {
          if (tracked) this.inFlight.delete(url);
        }
      }),
    );
  }
}
