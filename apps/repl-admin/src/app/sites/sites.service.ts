import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import type { Servers } from '../config/servers';
import { Db } from '../db/db.service';
import { describeError, ident, run, stmt } from '../db/sql';
import { Loop } from '../monitor/loop';
import { type NodeReplica, serversWithNodes } from './site-servers';

/**
 * Keeps the watched servers in step with the topology: the configured ones (REPL_SERVERS), every
 * content node in `site_nodes` on the primary, and any node whose join is under way. A failed read
 * keeps the last list; a missing table (schema not migrated yet) means no nodes.
 */
@Injectable()
export class SitesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SitesService.name);
  private readonly configured: Servers;
  private readonly loop: Loop | null;
  private fromTable: NodeReplica[] = [];
  private readonly joining = new Map<string, NodeReplica>();
  private error: string | null = null;

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
  ) {
    this.configured = config.servers;
    const every = config.env.REPL_SITES_INTERVAL_MS;
    this.loop = every > 0 ? new Loop(every, () => this.refresh(), (err) => this.logger.error(describeError(err))) : null;
  }

  onApplicationBootstrap(): void {
    this.loop?.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop?.stop() ?? Promise.resolve();
  }

  /** Reads the topology table once and applies it. */
  async refresh(): Promise<void> {
    const table = `${ident(this.config.env.REPL_DB_NAME)}.site_nodes`;
    try {
      const rows = await this.db.with(this.config.servers.primary, 'admin', (conn) => run<Record<string, unknown>[]>(conn, stmt(`SELECT name, address, db_port FROM ${table} ORDER BY name`)));
      this.fromTable = rows.map((r) => ({ name: String(r['name']), address: String(r['address']), dbPort: Number(r['db_port']) }));
      if (this.error) this.logger.log('the topology is read again');
      this.error = null;
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') {
        this.fromTable = [];
      } else {
        const message = describeError(err);
        if (message !== this.error) this.logger.warn(`the topology cannot be read, the last one is kept: ${message}`);
        this.error = message;
      }
    }
    this.apply();
  }

  /** The server watched under `name` now (configured, in the table, or being seeded), if any. */
  watched(name: string): { name: string; host: string; port: number } | undefined {
    return this.config.all.find((s) => s.name === name);
  }

  /** The watched server at `host:port`, if any. */
  watchedAt(host: string, port: number): { name: string } | undefined {
    return this.config.all.find((s) => s.host.toLowerCase() === host.toLowerCase() && s.port === port);
  }

  /** Every node of the topology, as last read. */
  nodes(): NodeReplica[] {
    return [...this.fromTable];
  }

  /** The topology's row for `name`, as last read. */
  inTable(name: string): NodeReplica | undefined {
    return this.fromTable.find((n) => n.name === name);
  }

  /** Whether `name` is a configured server (REPL_SERVERS): never a content node's name. */
  isConfigured(name: string): boolean {
    return [this.configured.primary, ...this.configured.replicas].some((s) => s.name === name);
  }

  /** A node being seeded is known (so it can be rebuilt) before it is in the table. */
  addJoining(node: NodeReplica): void {
    this.joining.set(node.name, node);
    this.apply();
  }

  dropJoining(name: string): void {
    this.joining.delete(name);
    this.apply();
  }

  private apply(): void {
    const inTable = new Set(this.fromTable.map((n) => n.name));
    const servers = serversWithNodes(this.configured, [...this.fromTable, ...[...this.joining.values()].filter((n) => !inTable.has(n.name))]);
    this.config.servers = servers;
    this.config.all = [servers.primary, ...servers.replicas];
  }
}
