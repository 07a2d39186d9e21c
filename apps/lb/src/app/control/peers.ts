import { SitePeersDto, type SitePeerDto } from '@vita/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { Logger } from 'pino';
import type { BackupConfig, PeersConfig } from '../config/config';

/** The first problem of a validation, as `path: message`. */
function firstProblem(errors: ValidationError[], path: string): string | null {
  for (const e of errors) {
    const key = /^\d+$/.test(e.property) ? `${path}[${e.property}]` : path ? `${path}.${e.property}` : e.property;
    const message = Object.values(e.constraints ?? {}).pop();
    if (message !== undefined) return `${key}: ${message.replace(new RegExp(`^(each value in )?${e.property} `), '')}`;
    const nested = firstProblem(e.children ?? [], key);
    if (nested !== null) return nested;
  }
  return null;
}

/**
 * The peers document, validated entry by entry: a bad entry (one node's row) is skipped with its
 * reason, never the whole list; a document that is not `{ peers: [...] }`, or whose every entry is
 * bad, is an error (the last good list stays).
 */
export function parsePeers(body: unknown): { peers: SitePeerDto[]; skipped: string[] } | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'the answer is not a JSON object' };
  const list = (body as { peers?: unknown }).peers;
  if (!Array.isArray(list)) return { error: 'peers: must be an array' };
  const peers: SitePeerDto[] = [];
  const skipped: string[] = [];
  list.forEach((entry, i) => {
    const dto = plainToInstance(SitePeersDto, { peers: [entry] });
    const problem = firstProblem(validateSync(dto), '');
    if (problem !== null) skipped.push(problem.replace(/^peers\[0\]/, `peers[${i}]`));
    else peers.push({ name: dto.peers[0].name, url: dto.peers[0].url });
  });
  if (peers.length === 0 && skipped.length > 0) return { error: skipped[0] };
  return { peers, skipped };
}

/**
 * The backups in force: the configured ones, then each peer the topology lists, leaving out this
 * node itself and any peer whose name or URL a configured backup already has.
 */
export function backupsWith(configured: BackupConfig[], peers: readonly SitePeerDto[], node: string): BackupConfig[] {
  const names = new Set(configured.map((b) => b.name));
  const urls = new Set(configured.map((b) => b.url.replace(/\/$/, '')));
  const learned: BackupConfig[] = [];
  for (const p of peers) {
    const url = p.url.replace(/\/$/, '');
    if (p.name === node || names.has(p.name) || urls.has(url)) continue;
    names.add(p.name);
    urls.add(url);
    learned.push({ name: p.name, url, weight: 1, maxconn: 256 });
  }
  return [...configured, ...learned];
}

/**
 * Polls the peers URL every `intervalMs` (each poll bounded by `timeoutMs`, at most the interval).
 * A good answer goes to `onPeers` when it differs from the last; a failed or invalid one keeps the
 * last good list and is logged at most once per interval (the first failure after a success at once).
 */
export class PeersPoller {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private lastWarned = 0;
  private stopped = false;

  constructor(
    private readonly settings: PeersConfig & { url: string },
    private readonly log: Logger,
    private readonly onPeers: (peers: SitePeerDto[]) => void,
  ) {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule(this.settings.intervalMs)), delay);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const { url, intervalMs, timeoutMs } = this.settings;
    let peers: ReturnType<typeof parsePeers>;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(timeoutMs, intervalMs)), headers: { accept: 'application/json', 'user-agent': 'vita-lb-peers' } });
      peers = res.status === 200 ? parsePeers(await res.json()) : { error: `status ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      peers = { error: e.name === 'TimeoutError' ? `no answer within ${Math.min(timeoutMs, intervalMs)} ms` : (e.cause?.code ?? e.message) };
    }
    if (this.stopped) return;
    if ('error' in peers) {
      const now = Date.now();
      if (now - this.lastWarned >= intervalMs) {
        this.lastWarned = now;
        this.log.warn({ url: new URL(url).origin + new URL(url).pathname, error: peers.error }, 'peers poll failed: the last good list of backups stays');
      }
      return;
    }
    if (peers.skipped.length > 0 && Date.now() - this.lastWarned >= intervalMs) {
      this.lastWarned = Date.now();
      this.log.warn({ skipped: peers.skipped }, 'peers poll: entries lb cannot use are left out');
    } else if (peers.skipped.length === 0) {
      this.lastWarned = 0;
    }
    const key = JSON.stringify(peers.peers);
    if (key === this.last) return;
    this.last = key;
    try {
      this.onPeers(peers.peers);
    } catch (err) {
      // Never fatal: the backups in force stay as they were.
      this.last = null;
      this.log.error({ error: (err as Error).message }, 'peers poll: the new list of backups could not be applied; the last one stays');
    }
  }
}
