import { replicaStatus, type MariaServer } from '@vita/mariadb';
import type { SiteStatement } from '@vita/contracts';
import { type NodeHost, type NodeSite, nodeReadHosts, provisionApiAccounts, type ReadPeer, serverIdOf, tlsFiles } from '@vita/sites';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Say } from './parts';
import type { Secrets } from './secrets';
import { nodeReplica, type NodeServices, type SiteHost, startNodeServices } from './sites';

const versionOf = (etag: string | null): number | null => {
  const m = /^(?:W\/)?"v(\d+)(?:-[^"]*)?"$/.exec(etag ?? '');
  return m ? Number(m[1]) : null;
};

/**
 * A content node whose replica and services are this process's children (a test host, or a machine
 * without systemd): the NodeHost that `joinSite` and `leaveSite` drive. On a real host, the site
 * command's systemd host does the same through systemctl.
 */
export class ProcessNodeHost implements NodeHost {
  private replica?: MariaServer;
  private services?: NodeServices;

  constructor(
    private readonly site: NodeSite,
    private readonly o: { root: string; say: Say; host: SiteHost; durable?: boolean; apiEnv?: Record<string, string>; peersIntervalMs?: number },
  ) {}

  get apiUrl(): string {
    return `http://${this.o.host.address}:${this.site.ports.api[0]}`;
  }

  private get writeHost(): string {
    return `${this.site.warehouse.address}:${this.site.warehouse.mariadb}`;
  }

  private server(): MariaServer {
    if (!this.replica) throw new Error('the replica is not started');
    return this.replica;
  }

  async startReplica(): Promise<void> {
    if (this.replica?.running) return;
    const data = join(this.site.home, 'data');
    const logs = join(this.site.home, 'logs');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    mkdirSync(logs, { recursive: true });
    const tls = tlsFiles(this.site.home, this.site.name);
    this.replica ??= await nodeReplica({ host: this.o.host, serverId: serverIdOf(this.site.name), data, logs, port: this.site.ports.mariadb, durable: this.o.durable, tls });
    await this.replica.start();
  }

  async local(statements: SiteStatement[]): Promise<void> {
    for (const s of statements) await this.server().query(s.sql, s.params);
  }

  replicaStatus(): Promise<Record<string, unknown> | null> {
    return replicaStatus(this.server());
  }

  provisionAccounts(secrets: Record<string, string>, userHost: string): Promise<void> {
    return provisionApiAccounts({ root: this.o.root, node: process.execPath }, this.server().socketPath, secrets, userHost);
  }

  async startServices(secrets: Record<string, string>, readPeers: readonly ReadPeer[] = []): Promise<void> {
    if (this.services) return;
    const { site } = this;
    this.services = await startNodeServices({
      root: this.o.root,
      logs: join(site.home, 'logs'),
      say: this.o.say,
      host: this.o.host,
      secrets: secrets as Secrets,
      writeHost: this.writeHost,
      readHosts: nodeReadHosts(site, readPeers),
      tls: tlsFiles(site.home, site.name),
      apiPorts: site.ports.api,
      webPorts: site.ports.web,
      lbPort: site.ports.lb,
      lbAdminPort: site.ports.lbAdmin,
      lbPeerPort: site.ports.lbPeer,
      peersIntervalMs: this.o.peersIntervalMs,
      apiEnv: this.o.apiEnv,
    });
  }

  async stopServices(): Promise<void> {
    await this.services?.stop();
    this.services = undefined;
  }

  async pageVersion(): Promise<number | null> {
    const res = await this.o.host.fetch(`http://${this.o.host.address}:${this.site.ports.lb}/`, { signal: AbortSignal.timeout(5000) });
    await res.text();
    return res.status === 200 ? versionOf(res.headers.get('etag')) : null;
  }

  async primaryVersion(): Promise<number> {
    const res = await this.o.host.fetch(`http://${this.o.host.address}:${this.site.ports.api[0]}/health/ready`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { checks?: { name: string; detail?: { primary?: { version?: number } } }[] };
    const version = body.checks?.find((c) => c.name === 'read-database')?.detail?.primary?.version;
    if (typeof version !== 'number') throw new Error(`the api does not report the primary's version (${res.status})`);
    return version;
  }

  /** Stops everything this host started. */
  async stop(): Promise<void> {
    await this.stopServices();
    await this.replica?.stop();
  }
}
