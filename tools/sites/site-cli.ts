import { findMariadbd } from '@vita/mariadb';
import { parseEnvFile } from '@vita/runtime';
import {
  caPaths,
  describeCert,
  ensureDataDir,
  formatJoinToken,
  hostLayout,
  hostPaths,
  hostServices,
  initCa,
  issueHostCert,
  joinSite,
  leaveSite,
  newJoinSecret,
  parseJoinToken,
  parseSiteConfig,
  prepareHostDirs,
  provisionWarehouse,
  readHostSecrets,
  SiteConfigError,
  siteServerId,
  socketAnswers,
  SystemdNodeHost,
  tlsFiles,
  writeHostUnits,
  type HostPrograms,
  type NodeSite,
  type ServiceSpec,
  type SiteConfig,
  type WarehouseSite,
} from '@vita/sites';
import { ensureSecrets, SECRET_NAMES } from '@vita/stack';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run site -- <command> [--config FILE]      (FILE: $VITA_SITE or /etc/vita/site.yaml)
  check                                   validate the site file; print the role and what would run
  init   [--unit-dir DIR] [--root DIR]    warehouse: CA, certificate, secrets, units (again once vita-mariadb runs: accounts and schema)
  token                                   warehouse: print the join token (a secret) for a content node
  units  [--unit-dir DIR] [--root DIR]    either role: (re)write the role's systemd units from the site file
  join   [--unit-dir DIR] [--root DIR] [--token-file FILE]   content node: join with $VITA_JOIN_TOKEN or the file's token
  leave  [--unit-dir DIR] [--root DIR]    content node: leave the topology, stop and disable vita-node.target
DIR: --unit-dir /etc/systemd/system, --root the folder holding dist/apps (default: this checkout).`;

const COMMANDS = ['check', 'init', 'token', 'units', 'join', 'leave'] as const;
type Command = (typeof COMMANDS)[number];
const OPTIONS: Record<Command, string[]> = {
  check: ['config', 'root'],
  init: ['config', 'unit-dir', 'root'],
  token: ['config'],
  units: ['config', 'unit-dir', 'root'],
  join: ['config', 'unit-dir', 'root', 'token-file', 'token'],
  leave: ['config', 'unit-dir', 'root'],
};
const OPTION_TYPES = { config: { type: 'string' }, 'unit-dir': { type: 'string' }, root: { type: 'string' }, 'token-file': { type: 'string' }, token: { type: 'string' } } as const;
const DEFAULT_SITE_FILE = '/etc/vita/site.yaml';
const DEFAULT_UNIT_DIR = '/etc/systemd/system';
const WORKSPACE = resolve(__dirname, '..', '..');

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

/** A command line or site file that cannot be used (exit 2); the message says which. */
class UsageError extends Error {}

function readSite(file: string): SiteConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the site file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSiteConfig(text, file);
}

function programs(root: string, mariadbd = findMariadbd().mariadbd): HostPrograms {
  return { root, node: process.execPath, mariadbd };
}

function writeWhole(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Where a service listens, as its settings say (the database: the site file's address). */
function listens(spec: ServiceSpec, site: SiteConfig): string {
  if (spec.name === 'vita-mariadb') return `${site.address}:${site.ports.mariadb} (TLS required)`;
  if (spec.env['LB_LISTEN']) return `${spec.env['LB_LISTEN']}, admin ${spec.env['LB_ADMIN_LISTEN']}, peers (TLS) ${spec.env['LB_PEER_LISTEN']}`;
  const scheme = spec.env['REPL_HTTPS_CERT'] ? 'https' : 'http';
  return `${scheme}://${spec.env['HOST']}:${spec.env['PORT']}`;
}

/** The role's plan, for `check`: the secrets' values are not needed, only that each service gets them. */
function plan(site: SiteConfig, file: string, root: string, io: Io): number {
  let mariadbd = '/usr/sbin/mariadbd';
  const warnings: string[] = [];
  try {
    mariadbd = findMariadbd(io.env).mariadbd;
  } catch (err) {
    warnings.push(`! ${(err as Error).message}`);
  }
  const placeholders = Object.fromEntries([...SECRET_NAMES].map((n) => [n, 'set-at-init']));
  const { target, services } = hostServices(site, programs(root, mariadbd), placeholders);
  io.out(`${file}: ${site.role === 'warehouse' ? 'data warehouse' : 'content node'} ${site.name} at ${site.address}, home ${site.home}`);
  if (site.role === 'node') io.out(`warehouse: ${site.warehouse.address} (MariaDB ${site.warehouse.mariadb}, repl-admin ${site.warehouse.replAdmin})`);
  io.out(`${target}.target runs:`);
  const width = Math.max(...services.map((s) => s.name.length));
  for (const s of services) io.out(`  ${s.name.padEnd(width)}  ${listens(s, site)}`);
  io.out(`MariaDB server id ${siteServerId(site)}, data in ${hostLayout(site).dataDir}`);
  const apps = site.role === 'warehouse' ? ['api', 'repl-admin'] : ['api', 'web', 'lb'];
  const missing = apps.filter((a) => !existsSync(join(root, 'dist', 'apps', a, 'main.js')));
  if (missing.length > 0) warnings.push(`! ${root}/dist/apps has no ${missing.join(', ')}: build them first (npx nx run-many -t build -p ${apps.join(',')})`);
  warnings.forEach((w) => io.err(w));
  return 0;
}

/** Makes what the warehouse needs, keeping what exists: the CA is never replaced. */
async function init(site: WarehouseSite, root: string, unitDir: string, io: Io): Promise<number> {
  const say = io.out;
  const layout = prepareHostDirs(site);
  const ca = caPaths(layout.caDir);
  if (existsSync(ca.crt)) say(`✓ site CA kept: ${ca.crt}`);
  else {
    await initCa({ dir: layout.caDir, name: 'Vita site CA' });
    say(`✓ site CA made: ${ca.crt} (its key ${ca.key}, mode 600, never leaves this host)`);
  }
  const own = hostPaths(layout.caDir, site.name);
  const sanEntry = isIP(site.address) ? `IP Address:${site.address}` : `DNS:${site.address}`;
  const covers = existsSync(own.crt) && describeCert(own.crt).subjectAltName.split(', ').some((e) => e.toLowerCase() === sanEntry.toLowerCase());
  if (!covers) await issueHostCert({ dir: layout.caDir, name: site.name, ...(isIP(site.address) ? { ips: [site.address] } : { dns: [site.address] }) });
  const tls = tlsFiles(site.home, site.name);
  writeWhole(tls.ca, readFileSync(ca.crt, 'utf8'), 0o644);
  writeWhole(tls.cert, readFileSync(own.crt, 'utf8'), 0o644);
  writeWhole(tls.key, readFileSync(own.key, 'utf8'), 0o600);
  say(`✓ certificate for ${site.address} ${covers ? 'kept' : 'issued'}: ${tls.cert} (key mode 600)`);

  const secrets: Record<string, string> = { ...ensureSecrets(layout.secretsFile) };
  if (!secrets['REPL_JOIN_SECRET']) {
    const text = readFileSync(layout.secretsFile, 'utf8');
    writeWhole(layout.secretsFile, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}REPL_JOIN_SECRET=${newJoinSecret()}\n`, 0o600);
  }
  Object.assign(secrets, parseEnvFile(readFileSync(layout.secretsFile, 'utf8'), layout.secretsFile));
  say(`✓ secrets in ${layout.secretsFile} (mode 600)`);

  const progs = programs(root);
  const written = writeHostUnits(site, progs, secrets, unitDir);
  say(`✓ units written: ${written.units.join(', ')}`);
  await ensureDataDir(site, progs.mariadbd);
  say(`✓ MariaDB data directory ${layout.dataDir}`);

  if (!(await socketAnswers(site))) {
    say('next:');
    say('  systemctl daemon-reload && systemctl start vita-mariadb');
    say('  npm run site -- init          # again: the accounts and the schema, through the admin socket');
    return 0;
  }
  await provisionWarehouse(site, progs, secrets);
  say(`✓ database accounts and schema on the primary (through ${layout.socketPath}; re-running is harmless)`);
  say('next:');
  say('  systemctl daemon-reload && systemctl enable --now vita-warehouse.target');
  say('  npm run site -- token         # the join token for a content node (a secret)');
  return 0;
}

function token(site: WarehouseSite, io: Io): number {
  const layout = hostLayout(site);
  const ca = caPaths(layout.caDir).crt;
  if (!existsSync(ca)) throw new Error(`${ca} does not exist: run \`npm run site -- init\` first`);
  const secret = readHostSecrets(site)['REPL_JOIN_SECRET'];
  if (!secret) throw new Error(`${layout.secretsFile} has no REPL_JOIN_SECRET: run \`npm run site -- init\` first`);
  io.err('! the join token is a secret: give it to the content node in VITA_JOIN_TOKEN or a file of mode 600, never on a command line');
  io.out(formatJoinToken(readFileSync(ca, 'utf8'), secret));
  return 0;
}

function readToken(tokenFile: string | undefined, io: Io): ReturnType<typeof parseJoinToken> {
  let text: string | undefined = io.env['VITA_JOIN_TOKEN'];
  if (tokenFile !== undefined) {
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--token-file: cannot read ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (!text?.trim()) throw new UsageError('no join token: set VITA_JOIN_TOKEN or give --token-file FILE (`npm run site -- token` on the warehouse prints it)');
  try {
    return parseJoinToken(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Runs one command; returns the exit code (0 done, 1 failed, 2 bad command line or site file). */
export async function main(argv: string[], io: Io = { out: console.log, err: console.error, env: process.env }): Promise<number> {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    io.err(command ? `site: unknown command "${command}"\n${USAGE}` : USAGE);
    return 2;
  }
  const cmd = command as Command;
  try {
    let values: Record<string, string | undefined>;
    try {
      values = parseArgs({
        args: rest,
        strict: true,
        allowPositionals: false,
        options: OPTION_TYPES,
      }).values;
    } catch (err) {
      // Never repeat the command line: it may hold a token.
      const code = (err as { code?: string }).code;
      if (rest.some((a) => a === '--token' || a.startsWith('--token='))) throw new UsageError(TOKEN_REFUSED);
      if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`${cmd} takes no arguments besides options (a join token goes in VITA_JOIN_TOKEN or --token-file)\n${USAGE}`);
      const unknown = rest.find((a) => a.startsWith('-') && !Object.keys(OPTION_TYPES).includes(a.replace(/^--?/, '').split('=')[0]));
      if (unknown) throw new UsageError(`unknown option ${unknown.split('=')[0].slice(0, 40)}\n${USAGE}`);
      throw new UsageError(`an option lacks its value\n${USAGE}`);
    }
    if (values['token'] !== undefined) throw new UsageError(TOKEN_REFUSED);
    const extra = Object.keys(values).find((k) => !OPTIONS[cmd].includes(k));
    if (extra) throw new UsageError(`--${extra} is not an option of ${cmd}`);
    const file = values['config'] ?? io.env['VITA_SITE'] ?? DEFAULT_SITE_FILE;
    const root = resolve(values['root'] ?? WORKSPACE);
    const unitDir = values['unit-dir'] ?? DEFAULT_UNIT_DIR;
    const site = readSite(file);
    const needRole = (role: SiteConfig['role']) => {
      if (site.role !== role) throw new UsageError(`${cmd} runs on ${role === 'warehouse' ? 'the data warehouse' : 'a content node'}; ${file} says role: ${site.role}`);
    };
    switch (cmd) {
      case 'check':
        return plan(site, file, root, io);
      case 'init':
        needRole('warehouse');
        return await init(site as WarehouseSite, root, unitDir, io);
      case 'token':
        needRole('warehouse');
        return token(site as WarehouseSite, io);
      case 'units': {
        const written = writeHostUnits(site, programs(root), readHostSecrets(site), unitDir);
        io.out(`✓ units written: ${written.units.join(', ')}`);
        io.out(`next: systemctl daemon-reload && systemctl restart ${written.target}.target`);
        return 0;
      }
      case 'join': {
        needRole('node');
        const joinToken = readToken(values['token-file'], io);
        const host = new SystemdNodeHost({ site: site as NodeSite, programs: programs(root), unitDir });
        prepareHostDirs(site);
        io.out(`joining ${site.name} (${site.address}) to the warehouse at ${(site as NodeSite).warehouse.address}; the units are written once the warehouse has handed out the site's secrets`);
        await joinSite(site as NodeSite, joinToken, host, { say: io.out });
        await host.startAtBoot(true);
        io.out(`✓ ${host.target}.target enabled (started at boot)`);
        return 0;
      }
      case 'leave': {
        needRole('node');
        const host = new SystemdNodeHost({ site: site as NodeSite, programs: programs(root), unitDir });
        await leaveSite(site as NodeSite, host, { say: io.out });
        await host.startAtBoot(false);
        io.out(`✓ ${host.target}.target disabled (not started at boot); vita-mariadb still runs with the data: systemctl stop vita-mariadb to stop it`);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof SiteConfigError) {
      io.err(`site ${cmd}: ${e.message}`);
      return 2;
    }
    io.err(`site ${cmd}: ${(e as Error).message?.split('\n')[0] ?? String(e)}`);
    return 1;
  }
}

const TOKEN_REFUSED = '--token is refused: a command line is visible to every user of this host (ps, /proc, shell history). Put the token in VITA_JOIN_TOKEN or in a file of mode 600 given with --token-file FILE';

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
