import type { ReplicationWarning, WarningCode } from '@vita/contracts';
import type { ReplConfig } from '../config/config';
import type { ServerProbe } from './probe';

/** Accounts that may bypass read_only: MariaDB's own, and repl-admin's admin account. */
const SYSTEM_ACCOUNTS = ['root', 'mariadb.sys', 'mysql'];

const days = (s: number): string => (s >= 86_400 ? `${(s / 86_400).toFixed(1)} days` : `${Math.round(s / 3600)} h`);

/** Configuration lint of one server: ROW format, gtid_strict_mode, read_only, binlog and its retention, accounts. */
export function lintServer(p: ServerProbe, config: ReplConfig): ReplicationWarning[] {
  const v = p.vars;
  if (!v) return [];
  const out: ReplicationWarning[] = [];
  const warn = (code: WarningCode, message: string) => out.push({ code, server: p.server.name, message });
  const primary = p.server.role === 'primary';
  if (v.binlogFormat !== 'ROW') warn('BINLOG_FORMAT', `binlog_format is ${v.binlogFormat}: use ROW, so replicas apply exactly the rows the primary changed`);
  if (!v.gtidStrictMode) warn('GTID_STRICT_MODE', 'gtid_strict_mode is OFF: turn it ON so out-of-order (errant) transactions stop replication instead of slipping in');
  if (primary && v.readOnly) warn('READ_ONLY', 'the primary is read_only: every write fails');
  if (!primary && !v.readOnly) warn('READ_ONLY', 'read_only is OFF on a replica: an application write here makes it diverge; enforce read_only');
  if (!v.logBin || (!primary && !v.logSlaveUpdates)) {
    warn('LOG_BIN', primary ? 'the binary log is off: replicas cannot replicate' : 'the replica does not binlog what it applies (log_bin, log_slave_updates): it cannot be promoted and errant transactions go unseen');
  }
  if (primary && v.logBin) {
    const min = config.env.REPL_BINLOG_MIN_RETENTION_SECONDS;
    if (v.binlogExpireSeconds === 0) warn('BINLOG_RETENTION', 'binlogs are never purged automatically (binlog_expire_logs_seconds=0): the disk fills up');
    else if (v.binlogExpireSeconds < min) warn('BINLOG_RETENTION', `binlogs are kept ${days(v.binlogExpireSeconds)}: a replica down for longer must be rebuilt (want at least ${days(min)})`);
  }
  if (primary && p.accountsError) warn('ACCOUNTS_UNCHECKED', `cannot list accounts that bypass read_only (${p.accountsError}): run provision`);
  const exempt = [...SYSTEM_ACCOUNTS, config.env.REPL_ADMIN_USER];
  for (const account of p.bypassAccounts ?? []) {
    if (!exempt.includes(account.slice(0, account.lastIndexOf('@')))) {
      warn('ACCOUNT_BYPASSES_READ_ONLY', `account ${account} has READ ONLY ADMIN: it can write on read-only replicas; application accounts must not`);
    }
  }
  if (p.heartbeatError) warn('HEARTBEAT', `cannot read the heartbeat table (${p.heartbeatError}): run provision`);
  return out;
}

/** Lint across servers: every server_id must be unique. */
export function lintTopology(probes: ServerProbe[]): ReplicationWarning[] {
  const ids = probes.filter((p) => p.vars).map((p) => [p.server.name, p.vars?.serverId] as const);
  return ids
    .filter(([name, id]) => ids.some(([other, otherId]) => other !== name && otherId === id))
    .map(([server, id]) => ({ code: 'SERVER_ID' as const, server, message: `server_id ${id} is used by another server too: replication skips or loops events` }));
}
