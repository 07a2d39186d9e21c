import { BadRequestException, Body, ConflictException, Controller, Get, Header, HttpCode, Inject, NotFoundException, Param, Post, Req, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { type ActionRecordDto, type JoinBundle, JoinRequestDto, SeedRequestDto, SITE_NODE_NAME } from '@vita/contracts';
import { AdminTokenGuard, ENV, parseEnvFile } from '@vita/runtime';
import { CaInputError, caPaths, issueHostCert } from '@vita/sites';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { ActionsService } from '../actions/actions.service';
import type { ReplConfig } from '../config/config';
import { provisionStatementsFor } from '../provision/provision';
import { SitesService } from './sites.service';

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** MariaDB's mysql_native_password hash of a password (what `IDENTIFIED BY PASSWORD` takes): not a login. */
export const passwordHash = (password: string): string =>
  `*${createHash('sha1').update(createHash('sha1').update(password).digest()).digest('hex').toUpperCase()}`;

/** What a content node's services need of the site's secrets (never the join secret or repl-admin's token). */
export const NODE_SECRETS = ['DB_READ_PASSWORD', 'DB_WRITE_PASSWORD', 'DB_MIGRATE_PASSWORD', 'VITA_ADMIN_TOKEN', 'LB_ADMIN_TOKEN'] as const;

/**
 * Joining a content node, on the warehouse: the CA (public, for the node to check against its join
 * token's pin), then with the join secret its certificate and the site's secrets, then seeding its
 * replica (a rebuild from a consistent snapshot, audited like any action).
 */
@Controller('api/v1/sites')
export class JoinController {
  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly sites: SitesService,
    private readonly actions: ActionsService,
  ) {}

  private caDir(): string {
    const dir = this.config.env.REPL_CA_DIR;
    if (!dir) throw new NotFoundException('joining is off on this warehouse (REPL_JOIN_SECRET and REPL_CA_DIR are not set)');
    return dir;
  }

  @Get('ca')
  @Header('Content-Type', 'application/x-pem-file')
  @Header('Cache-Control', 'no-store')
  ca(): string {
    return readFileSync(caPaths(this.caDir()).crt, 'utf8');
  }

  /** Which address /join issued each node's certificate for (a seed must name the same). */
  private readonly issued = new Map<string, string>();
  /** One issuance per name at a time: concurrent joins of one name each get a key and its own certificate. */
  private readonly issuing = new Map<string, Promise<unknown>>();

  private async issue(dir: string, name: string, address: string): Promise<{ cert: string; key: string }> {
    const before = this.issuing.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => {
      const paths = await issueHostCert({ dir, name, ...(isIP(address) ? { ips: [address] } : { dns: [address] }) });
      return { cert: readFileSync(paths.crt, 'utf8'), key: readFileSync(paths.key, 'utf8') };
    });
    this.issuing.set(name, run);
    try {
      return await run;
    } catch (err) {
      if (err instanceof CaInputError) throw new BadRequestException(err.message.replace(/^--name/, 'name').replace(/^--(ip|dns)/, 'address'));
      throw err;
    } finally {
      if (this.issuing.get(name) === run) this.issuing.delete(name);
    }
  }

  /** A name already used elsewhere, or an address that is none: refused before anything is issued. */
  private checkJoin(name: string, address: string): void {
    if (!isIP(address) && (!DNS_NAME.test(address) || /^[\d.]+$/.test(address))) throw new BadRequestException('address must be an IP address or a DNS name');
    if (this.sites.isConfigured(name)) throw new ConflictException(`${name} is the name of a server repl-admin is configured with (REPL_SERVERS): choose another node name`);
    const row = this.sites.inTable(name);
    if (row && row.address.toLowerCase() !== address.toLowerCase()) {
      throw new ConflictException(`the topology has a node ${name} at ${row.address}: a node joining from ${address} must have another name (or that node must leave first)`);
    }
  }

  @Post('join')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  async join(@Body() body: JoinRequestDto): Promise<JoinBundle> {
    const env = this.config.env;
    const dir = this.caDir();
    this.checkJoin(body.name, body.address);
    const file = env.REPL_SITE_SECRETS_FILE as string;
    let all: Record<string, string>;
    try {
      all = parseEnvFile(readFileSync(file, 'utf8'), file);
    } catch (err) {
      throw new ServiceUnavailableException(`the site's secrets cannot be read from REPL_SITE_SECRETS_FILE: ${(err as Error).message.split('\n')[0].replace(/=.*/, '')}`);
    }
    const missing = NODE_SECRETS.filter((n) => !all[n]);
    if (missing.length > 0) throw new ServiceUnavailableException(`REPL_SITE_SECRETS_FILE lacks ${missing.join(', ')}`);
    const pair = await this.issue(dir, body.name, body.address);
    this.issued.set(body.name, body.address.toLowerCase());
    // repl-admin's accounts with their password hashes (IDENTIFIED BY PASSWORD): a node can create them, never log in as them.
    const accounts = provisionStatementsFor(env).map((st) => ({
      sql: st.sql.replace('IDENTIFIED BY ?', 'IDENTIFIED BY PASSWORD ?'),
      params: st.params.map((p) => (p === env.REPL_ADMIN_PASSWORD || p === env.REPL_MONITOR_PASSWORD ? passwordHash(String(p)) : String(p))),
    }));
    return {
      ca: readFileSync(caPaths(dir).crt, 'utf8'),
      cert: pair.cert,
      key: pair.key,
      secrets: Object.fromEntries(NODE_SECRETS.map((n) => [n, all[n]])),
      primary: this.config.replicationSource,
      userHost: env.REPL_USER_HOST,
      replAccounts: accounts,
      nodes: this.sites.nodes().filter((n) => n.name !== body.name),
    };
  }

  /** Seeds the node's replica from a consistent snapshot of the primary and starts its replication. */
  @Post('join/:name/seed')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  async seed(@Param('name') name: string, @Body() body: SeedRequestDto, @Req() req: { id: string }): Promise<ActionRecordDto> {
    if (!SITE_NODE_NAME.test(name)) throw new BadRequestException('the node name must be a DNS label: a-z, 0-9 and -, at most 63 characters');
    // Only a new node is seeded: never a server already watched (a rebuild drops its tables), never at another's address.
    const taken = this.sites.watched(name);
    if (taken) throw new ConflictException(`${name} is a server repl-admin already watches (${taken.host}:${taken.port}): a seed never rebuilds it (use the rebuild action, with the admin token)`);
    const at = this.sites.watchedAt(body.address, body.dbPort);
    if (at) throw new ConflictException(`${body.address}:${body.dbPort} is ${at.name}, a server repl-admin already watches`);
    if (this.issued.get(name) !== body.address.toLowerCase()) throw new ConflictException(`${name} has not joined from ${body.address} (POST /api/v1/sites/join first, with that address)`);
    // Known for the rebuild only; once the node has registered itself in site_nodes, the table names it and it is watched.
    this.sites.addJoining({ name, address: body.address, dbPort: body.dbPort });
    try {
      return await this.actions.perform('rebuild', name, { reason: `join of content node ${name}`, force: true, tlsCa: body.tlsCa }, req.id);
    } finally {
      this.sites.dropJoining(name);
    }
  }
}
