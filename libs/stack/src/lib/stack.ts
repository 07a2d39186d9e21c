import { BindNotInstalledError, BindServer, type BindPrograms } from '@vita/bind';
import { configureReplica, MariaServer, replicaStatus, sleep, waitForReplicaCatchUp } from '@vita/mariadb';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_SKIPPED_LINE, dnsEnv, localBindPrograms, probeAddressOf, zoneOf } from './dns';
import { buildApps, dbEnv, ensureMariadb, loadSampleIfEmpty, migrate, provisionPrimary, replAdminEnv, ServiceSet, stopLeftovers, timed, USERS } from './parts';
import { ensureLocalTls, type LocalTls } from './local-tls';
import { ensureSecrets, Secrets } from './secrets';
import { Service } from './service';

/** Where and how the local stack runs. Every field has a default; the README lists the variables. */
export interface StackOptions {
  /** Workspace root (holds dist/ and tools/). */
  root: string;
  /** Data, logs and secrets (default `<root>/.vita`, `VITA_HOME`). */
  home: string;
  primaryPort: number;
  replicaPort: number;
  apiPorts: number[];
  /** web instances (none: the stack stops at the api). */
  webPorts?: number[];
  /** repl-admin watching the primary and the replica; none when unset. */
  replAdminPort?: number;
  /**
   * lb in front of the web instances (or of the apis when there is no web); none when unset. With
   * `httpsPort` it also serves HTTPS on `listenHost:httpsPort` with a certificate from the stack's
   * own CA (`<home>/ca`), while the plain port keeps serving the page (no redirect).
   */
  lb?: { port: number; adminPort: number; listenHost: string; workers?: number; httpsPort?: number };
  /**
   * DNS failover on this machine: a BIND on 127.0.0.1:`bindPort` serving the zone of `name`, and a dns
   * controller on 127.0.0.1:`port` publishing `name` → the lb (node `local`). Needs `lb`; skipped with
   * one line saying how to install BIND when named is missing. None when unset.
   */
  dns?: { port: number; bindPort: number; name: string };
  /** Build the bundles first (`nx run-many -t build`). */
  build: boolean;
  say: (line: string) => void;
}

export function stackOptionsFromEnv(root: string, env: NodeJS.ProcessEnv, say: (line: string) => void): StackOptions {
  const port = (name: string, fallback: number): number => {
    const value = env[name] ?? String(fallback);
    if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new Error(`${name} must be a port number (1-65535)`);
    return Number(value);
  };
  const ports = (name: string, fallback: string) => (env[name] ?? fallback).split(',').map((p, i) => port(`${name}[${i}]`, Number(p)));
  return {
    root,
    home: env['VITA_HOME'] ?? join(root, '.vita'),
    primaryPort: port('VITA_PRIMARY_PORT', 13306),
    replicaPort: port('VITA_REPLICA_PORT', 13307),
    apiPorts: ports('VITA_API_PORTS', '3100,3101'),
    webPorts: ports('VITA_WEB_PORTS', '3000,3001'),
    replAdminPort: port('VITA_REPL_ADMIN_PORT', 3200),
    lb: {
      port: port('VITA_LB_PORT', 8080),
      adminPort: port('VITA_LB_ADMIN_PORT', 8404),
      listenHost: env['VITA_LB_HOST'] ?? '0.0.0.0',
      httpsPort: env['VITA_HTTPS'] === 'off' ? undefined : port('VITA_HTTPS_PORT', 8443),
    },
    dns: env['VITA_DNS'] === 'off' ? undefined : { port: port('VITA_DNS_PORT', 3300), bindPort: port('VITA_BIND_PORT', 15353), name: dnsName(env['VITA_DNS_NAME'] ?? 'resume.vita.test') },
    build: env['VITA_SKIP_BUILD'] !== '1',
    say,
  };
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function dnsName(value: string): string {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME.test(name)) throw new Error('VITA_DNS_NAME must be a DNS name of two labels or more, such as resume.vita.test');
  return name;
}

/** DNS failover on the local stack: the BIND it publishes to and the controller. */
export interface RunningDns {
  bind: BindServer;
  controller: Service;
  name: string;
  /** The published address (where the controller reaches the lb). */
  address: string;
}

/** lb's HTTPS listener on the local stack. */
export interface RunningHttps extends LocalTls {
  port: number;
  /** What a browser on this machine opens: https://localhost:<port>/ */
  url: string;
}

export interface RunningStack {
  primary: MariaServer;
  replica: MariaServer;
  apis: Service[];
  webs: Service[];
  lb?: Service;
  replAdmin?: Service;
  /** Undefined when not asked for, or skipped (named missing: `dnsSkipped` says so). */
  dns?: RunningDns;
  dnsSkipped?: string;
  /** lb's HTTPS listener and the local CA behind its certificate; undefined without `lb.httpsPort`. */
  https?: RunningHttps;
  secrets: Secrets;
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<RunningStack> {
  const { say, root } = o;
  ensureMariadb(say);
  const dataRoot = join(o.home, 'data');
  const logs = join(o.home, 'logs');
  mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  mkdirSync(logs, { recursive: true });
  const secrets = ensureSecrets(join(o.home, 'secrets.env'));
  const dnsPlan = o.dns ? findLocalBind(o) : undefined;
  const bindPrograms = dnsPlan && 'named' in dnsPlan ? dnsPlan : undefined;
  const dnsSkipped = dnsPlan && 'skipped' in dnsPlan ? dnsPlan.skipped : undefined;
  if (dnsSkipped) say(dnsSkipped);
  const tls = o.lb?.httpsPort !== undefined ? await localTls(o, say) : undefined;

  if (o.build) {
    const projects = ['api', ...(o.webPorts?.length ? ['web'] : []), ...(o.lb ? ['lb'] : []), ...(o.replAdminPort ? ['repl-admin'] : []), ...(bindPrograms ? ['dns'] : [])];
    await timed(say, 'services built', () => buildApps(root, projects));
  }
  await stopLeftovers(dataRoot, say);

  const server = (name: string, serverId: number, role: 'primary' | 'replica', port: number) =>
    MariaServer.create({ name, serverId, role, port, dataDir: join(dataRoot, name), logFile: join(logs, `${name}.log`) });
  const primary = await server('primary', 1, 'primary', o.primaryPort);
  const replica = await server('replica1', 2, 'replica', o.replicaPort);
  const services = new ServiceSet(root, logs, say);
  let bind: BindServer | undefined;
  const stop = async (): Promise<void> => {
    await services.stop();
    await bind?.stop();
    await replica.stop();
    await primary.stop();
  };

  try {
    await timed(say, `MariaDB primary on 127.0.0.1:${o.primaryPort}`, () => primary.start());
    await timed(say, `MariaDB replica on 127.0.0.1:${o.replicaPort}`, () => replica.start());

    const writeHost = `127.0.0.1:${o.primaryPort}`;
    await timed(say, 'database users and replication set up', async () => {
      await provisionPrimary(root, primary, secrets, { userHost: '127.0.0.1', replAdmin: o.replAdminPort !== undefined });
      if (!(await replicaStatus(replica))) {
        await configureReplica(replica, primary, { user: USERS.replication, password: secrets.DB_REPL_PASSWORD });
      }
    });
    await timed(say, 'schema migrated on the primary', () => migrate(root, secrets, writeHost));
    await timed(say, 'replica caught up', () => waitForReplicaCatchUp(replica, primary, 30_000));

    const apis = o.apiPorts.map((port) =>
      services.add('api', port, {
        ...dbEnv(secrets, writeHost),
        HOST: '127.0.0.1',
        PORT: String(port),
        DB_READ_HOSTS: `replica@127.0.0.1:${o.replicaPort},primary@127.0.0.1:${o.primaryPort}`,
        VITA_ADMIN_TOKEN: secrets.VITA_ADMIN_TOKEN,
      }),
    );
    await timed(say, `api ×${apis.length} ready`, () => Promise.all(apis.map((api) => api.start())));
    const apiUrls = apis.map((api) => api.url);
    await loadSampleIfEmpty(root, fetch, apiUrls, secrets.VITA_ADMIN_TOKEN, say);

    const webs = (o.webPorts ?? []).map((port) => services.add('web', port, { HOST: '127.0.0.1', PORT: String(port), API_URLS: apiUrls.join(',') }));
    if (webs.length > 0) await timed(say, `web ×${webs.length} ready`, () => Promise.all(webs.map((web) => web.start())));
    let replAdmin: Service | undefined;
    if (o.replAdminPort) {
      replAdmin = services.add('repl-admin', o.replAdminPort, {
        HOST: '127.0.0.1',
        PORT: String(o.replAdminPort),
        ...replAdminEnv(secrets, `primary=127.0.0.1:${o.primaryPort},replica1=127.0.0.1:${o.replicaPort}@local`, join(logs, 'repl-admin-audit.jsonl')),
      });
      await timed(say, `repl-admin on 127.0.0.1:${o.replAdminPort}`, () => replAdmin?.start());
    }
    let lb: Service | undefined;
    let https: RunningHttps | undefined;
    if (o.lb) {
      const backends = (webs.length > 0 ? webs : apis).map((b, i) => `${webs.length > 0 ? 'web' : 'api'}${i + 1}=${b.url}`).join(',');
      lb = services.add(
        'lb',
        o.lb.port,
        {
          LB_LISTEN: `${o.lb.listenHost}:${o.lb.port}`,
          LB_ADMIN_LISTEN: `127.0.0.1:${o.lb.adminPort}`,
          LB_BACKENDS: backends,
          LB_ADMIN_TOKEN: secrets.LB_ADMIN_TOKEN,
          ...(o.lb.workers !== undefined ? { LB_WORKERS: String(o.lb.workers) } : {}),
          ...(tls && o.lb.httpsPort !== undefined ? { LB_CONFIG: writeLbHttpsConfig(o.home, hostPort(o.lb.listenHost, o.lb.httpsPort), tls) } : {}),
        },
        `http://127.0.0.1:${o.lb.adminPort}`,
      );
      const listening = [`${o.lb.listenHost}:${o.lb.port}`, ...(tls ? [`https on :${o.lb.httpsPort}`] : [])].join(', ');
      await timed(say, `lb on ${listening}`, () => lb?.start());
      if (tls && o.lb.httpsPort !== undefined) https = { ...tls, port: o.lb.httpsPort, url: `https://localhost:${o.lb.httpsPort}/` };
    }
    let dns: RunningDns | undefined;
    if (o.dns && o.lb && bindPrograms) {
      const { port, bindPort, name } = o.dns;
      const zone = zoneOf(name);
      // A fresh zone on each start, in a private dir under the home that stop() removes (sweepStaleBind: after a kill).
      bind = await timed(say, `BIND (named) serving ${zone} on 127.0.0.1:${bindPort}`, () =>
        BindServer.start({ zone, address: '127.0.0.1', port: bindPort, dir: join(o.home, 'bind'), programs: bindPrograms }),
      );
      const address = probeAddressOf(o.lb.listenHost);
      const env = dnsEnv({
        name,
        nodes: [{ node: 'local', address }],
        probePort: o.lb.port,
        vantage: 'local',
        host: '127.0.0.1',
        port,
        bind: { address: bind.address, port: bind.port, zone, keyFile: bind.keyFile },
        peerToken: secrets.DNS_PEER_TOKEN,
        adminToken: secrets.DNS_ADMIN_TOKEN,
        stateFile: join(o.home, 'dns-state.json'),
        auditLog: join(logs, 'dns-audit.jsonl'),
      });
      const controller = services.add('dns', port, env);
      const running: RunningDns = { bind, controller, name, address };
      await timed(say, `dns controller on 127.0.0.1:${port}, ${name} published to BIND`, async () => {
        await controller.start();
        await waitForRecord(running);
      });
      dns = running;
    }
    return { primary, replica, apis, webs, lb, replAdmin, dns, dnsSkipped, https, secrets, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** The local CA and the certificate lb serves, made or kept (`<home>/ca`), with a line saying which. */
async function localTls(o: StackOptions, say: (line: string) => void): Promise<LocalTls> {
  const dir = join(o.home, 'ca');
  return timed(say, `local CA and HTTPS certificate in ${dir}`, async () => {
    const tls = await ensureLocalTls(dir);
    if (tls.caMade) say(`local CA made in ${dir} (${tls.caMade}): trust ${tls.caCert} once, as the summary below says`);
    if (tls.leafIssued) say(`certificate for localhost, 127.0.0.1 and ::1 issued by the local CA (${tls.leafIssued}), valid until ${tls.notAfter.toISOString().slice(0, 10)}`);
    return tls;
  });
}

/** `host:port` as lb's listen settings take it (an IPv6 address in brackets). */
const hostPort = (host: string, port: number): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * lb's configuration file on the local stack: only its HTTPS listener (the LB_* variables give the
 * rest). The plain port keeps serving the page (redirectHttp off): the stack runs both side by side.
 * Written on every start (YAML, of which JSON is a part).
 */
function writeLbHttpsConfig(home: string, listen: string, tls: LocalTls): string {
  const file = join(home, 'lb.yaml');
  const config = { https: { listen, certificates: [{ cert: tls.cert, key: tls.key }], redirectHttp: false } };
  const text = `# Written by npm start (libs/stack) on each start; lb's other settings come from LB_* variables.\n${JSON.stringify(config, null, 2)}\n`;
  writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
  return file;
}

/** named (and friends) when installed; otherwise the one line saying DNS failover is skipped (with the install command). */
function findLocalBind(o: StackOptions): BindPrograms | { skipped: string } {
  if (!o.lb) return { skipped: 'DNS failover skipped: the controller probes the lb, and this stack runs none' };
  try {
    return localBindPrograms();
  } catch (err) {
    if (!(err instanceof BindNotInstalledError)) throw err;
    return { skipped: DNS_SKIPPED_LINE };
  }
}

/** Waits (bounded) until BIND answers the name with the published address: the controller's first round has reached it. */
async function waitForRecord(dns: RunningDns, timeoutMs = 15_000): Promise<void> {
  const type = dns.address.includes(':') ? 'AAAA' : 'A';
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const got = await dns.bind.lookup(dns.name, type);
      if (got.includes(dns.address)) return;
      last = got.length ? `it answers ${got.join(', ')}` : 'it has no record yet';
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`BIND does not answer ${dns.name} ${type} with ${dns.address} within ${timeoutMs / 1000} s (${last}); see ${dns.controller.logFile}`);
}
