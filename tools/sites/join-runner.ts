import { joinSite, leaveSite, parseJoinToken, parseSiteConfig } from '@vita/sites';
import { ProcessNodeHost } from '@vita/stack';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A content node's join and leave as its host runs them, for the namespaced test site: started inside
 * the node's namespace (`ip netns exec`), it joins with the site file (VITA_SITE) and the join token
 * (VITA_JOIN_TOKEN), prints `joined`, keeps the node's processes (standing in for systemd) until a
 * `leave` line on stdin (then leaves, prints `left` and exits) or SIGTERM (stops them and exits).
 */
async function main(): Promise<void> {
  const file = process.env['VITA_SITE'] ?? '';
  const site = parseSiteConfig(readFileSync(file, 'utf8'), file);
  if (site.role !== 'node') throw new Error(`${file}: role must be node to join`);
  const token = parseJoinToken(process.env['VITA_JOIN_TOKEN'] ?? '');
  const say = (line: string) => console.log(`[${site.name}] ${line}`);
  const host = new ProcessNodeHost(site, {
    root: process.env['VITA_ROOT'] ?? process.cwd(),
    say,
    host: { name: site.name, address: site.address, fetch: (url, init) => fetch(url, init) },
    durable: false,
    apiEnv: { DB_TIMEOUT_MS: '1000', DB_SITES_INTERVAL_MS: '1000' },
  });
  const stop = () => host.stop().finally(() => process.exit(0));
  process.on('SIGTERM', () => void stop());
  try {
    await joinSite(site, token, host, { say });
  } catch (err) {
    await host.stop().catch(() => undefined);
    throw err;
  }
  console.log('joined');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'leave') continue;
    await leaveSite(site, host, { say });
    await host.stop();
    console.log('left');
    process.exit(0);
  }
  await stop();
}

main().catch((err: unknown) => {
  console.error(`join-runner: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
