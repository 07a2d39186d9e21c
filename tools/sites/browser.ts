import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';

/** Debian's Chromium; CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The headless flags Chromium needs here (MACHINE-NOTES): no sandbox, no GPU, nothing fetched in the background. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'];

/**
 * A real Chromium (playwright-core) running inside network namespace `netns`: the executable is a
 * wrapper in `dir` that execs `ip netns exec <netns> chromium`, so the browser resolves names through
 * that namespace's /etc/netns/<netns>/resolv.conf and connects from its address. No resolver rule
 * or proxy is given to it.
 */
export async function launchIn(netns: string, dir: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (as root)`);
  if (!/^[a-z0-9-]+$/.test(netns)) throw new Error(`not a namespace name: ${netns}`);
  const wrapper = join(dir, 'chromium-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o700);
  return chromium.launch({ executablePath: wrapper, args: FLAGS, timeout: 30_000 });
}

/** One page load as a visitor sees it. */
export interface Load {
  /** When it started, ms since the epoch. */
  at: number;
  ms: number;
  /** The résumé was shown. */
  ok: boolean;
  /** The address Chromium connected to (empty on a network error). */
  address: string;
  /** The node that answered (x-vita-node). */
  node: string | null;
  /** The error page's code (net::ERR_…) or the status, when not ok. */
  error: string | null;
}

/** Loads `url` in a fresh browser context (no cookies, no HTTP cache, new connections), bounded by `timeoutMs`. */
export async function loadOnce(browser: Browser, url: string, shows: string, timeoutMs: number): Promise<Load> {
  const at = Date.now();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const res = await page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
    const address = (await res?.serverAddr())?.ipAddress ?? '';
    const node = res?.headers()['x-vita-node'] ?? null;
    const text = await page.content();
    const ok = res?.status() === 200 && text.includes(shows);
    return { at, ms: Date.now() - at, ok, address, node, error: ok ? null : `status ${res?.status() ?? 'none'}` };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { at, ms: Date.now() - at, ok: false, address: '', node: null, error: /net::[A-Z_]+/.exec(message)?.[0] ?? message.split('\n')[0] };
  } finally {
    await context.close().catch(() => undefined);
  }
}

/** Pure: the longest run of consecutive failed loads: how many, and from the first one's start to the next good load's start (ms). */
export function longestErrorRun(loads: Load[]): { count: number; ms: number } {
  let best = { count: 0, ms: 0 };
  for (let i = 0; i < loads.length; i++) {
    if (loads[i].ok) continue;
    let j = i;
    while (j < loads.length && !loads[j].ok) j++;
    const end = j < loads.length ? loads[j].at : loads[j - 1].at + loads[j - 1].ms;
    if (j - i > best.count) best = { count: j - i, ms: end - loads[i].at };
    i = j;
  }
  return best;
}

/**
 * Loads `url` about every `everyMs` (one after another: a slow load delays the next) until stop()
 * is called; every load is recorded.
 */
export function loadEvery(browser: Browser, url: string, shows: string, everyMs: number, timeoutMs: number): { loads: Load[]; stop(): Promise<Load[]> } {
  const loads: Load[] = [];
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const load = await loadOnce(browser, url, shows, timeoutMs);
      loads.push(load);
      const wait = Math.max(0, everyMs - load.ms);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    loads,
    stop: async () => {
      running = false;
      wake?.();
      await loop;
      return loads;
    },
  };
}
