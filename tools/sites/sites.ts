import { resolve } from 'node:path';
import { DNS, DNS_VANTAGES, NODES, PORTS, RunningSite, startSite } from './site';

// `npm run sites`: the data warehouse and two content nodes, each on its own host (a network
// namespace), until Ctrl-C; then every process, namespace and link is removed.
async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const say = (line: string) => console.log(`[sites] ${line}`);
  if (process.getuid?.() !== 0) throw new Error('npm run sites builds network namespaces and so must run as root (sudo npm run sites)');
  const state: { site?: RunningSite; requested?: string; stopping: boolean } = { stopping: false };
  const shutdown = (signal: string) => {
    const { site } = state;
    if (!site) {
      // Still starting: startSite removes everything itself on failure; stop once it is up.
      if (!state.requested) say(`${signal}: stopping as soon as the start has finished…`);
      state.requested = signal;
      return;
    }
    if (state.stopping) return;
    state.stopping = true;
    say(`${signal}: stopping…`);
    site.stop().then(
      () => {
        say('stopped; every namespace and link removed');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`[sites] stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const site = await startSite({ root, say, build: process.env['VITA_SKIP_BUILD'] !== '1' });
  state.site = site;
  if (state.requested) return shutdown(state.requested);

  const { topology } = site;
  const w = topology.host('warehouse');
  const c = topology.host('client');
  const pad = (s: string) => s.padEnd(11);
  console.log(`
Vita's test site is running (segment ${topology.plan.subnet}.0/24, namespaces ${topology.plan.prefix}*):
  ${pad('warehouse')}${w.address}   MariaDB primary ${w.address}:${PORTS.mariadb}, repl-admin http://${w.address}:${PORTS.replAdmin}/ (topology: /api/v1/topology)
${NODES.map((n) => {
  const h = topology.host(n);
  return `  ${pad(n)}${h.address}   page http://${h.address}:${PORTS.lb}/, api ${PORTS.api.map((p) => `http://${h.address}:${p}/api/v1/resume`).join(' ')}, replica ${h.address}:${PORTS.mariadb}, lb stats http://127.0.0.1:${PORTS.lbAdmin}/stats (inside ${n})`;
}).join('\n')}
  ${pad('client')}${c.address}   nothing runs here: make requests from it (it resolves names through the warehouse's BIND)
Names resolve inside every host (/etc/netns/<ns>/hosts): warehouse, ${NODES.join(', ')}, client.
DNS: ${DNS.name} (zone ${DNS.zone}, BIND on ${w.address}:${PORTS.dns}) has one A record per healthy node, kept by a dns controller on
  ${DNS_VANTAGES.join(', ')} (status http://<host address>:${PORTS.dnsController}/, JSON /api/v1/status; drain/undrain with DNS_ADMIN_TOKEN):
                           ip netns exec ${c.netns} dig +short ${DNS.name}
                           ip netns exec ${c.netns} curl -s http://${DNS.name}:${PORTS.lb}/ -o /dev/null -w '%{remote_ip}\\n'
Run a command in a host:   ip netns exec ${c.netns} curl -si http://node-a:${PORTS.lb}/
                           ip netns exec ${topology.host('node-a').netns} curl -s http://127.0.0.1:${PORTS.lbAdmin}/stats
Admin tokens (VITA_ADMIN_TOKEN, LB_ADMIN_TOKEN, REPL_ADMIN_TOKEN, DNS_ADMIN_TOKEN) in ${site.home}/secrets.env; logs in ${site.home}/<host>/logs/.
Press Ctrl-C to stop and remove it all.`);
  say('ready');
}

main().catch((err: unknown) => {
  console.error(`[sites] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
