import type { ReplicaState, ReplicationErrorDto } from '@vita/contracts';
import { formatGtids, type Gtid } from '../db/gtid';
import type { ServerProbe } from './probe';

/** The replica's IO thread lost or cannot open its connection: safe to start again once the primary answers. */
export const CONNECTION_ERRORS = new Set([1040, 1129, 1158, 1159, 1160, 1161, 2002, 2003, 2005, 2006, 2013]);
/** CR_SSL_CONNECTION_ERROR: TLS to the primary failed. A restart cannot fix a certificate, so it is not a connection error. */
export const TLS_ERROR = 2026;
/** The SQL thread gave up waiting for a lock held on the replica: one restart of the SQL thread is safe. */
export const LOCK_ERRORS = new Set([1205, 1213]);

const REBUILD = 'rebuild the replica from the primary (POST /api/v1/replicas/<name>/actions/rebuild), then run the drift check';
const DIVERGED_DATA = `do not skip the event (that only hides the difference); ${REBUILD}`;
const BY_LOCK = 'end the long transaction on the replica (SHOW PROCESSLIST); repl-admin restarts the SQL thread once by itself';
const RECONNECTS = 'check that the primary runs and is reachable from this node; the replica reconnects by itself (repl-admin nudges it once the primary answers)';

/** Plain-language cause and next step of the replication errors an operator meets. */
const ERRORS: Record<number, [cause: string, next: string]> = {
  1040: ['the primary has no free connection for the replica (too many connections)', 'look for a connection leak on the primary or raise max_connections'],
  1045: ['the primary refused the replication account (wrong password, the account is missing, or it must use TLS: REQUIRE SSL or require_secure_transport, and the replica connects without MASTER_SSL)', 'check the replication account and its REPLICATION SLAVE grant on the primary, then restart replication'],
  1129: ['the primary blocks this host after too many connection errors', 'run FLUSH HOSTS on the primary'],
  1205: ['a transaction on the replica held a lock the SQL thread needed longer than innodb_lock_wait_timeout', BY_LOCK],
  1213: ['the SQL thread was chosen as a deadlock victim by a transaction running on the replica', BY_LOCK],
  1032: ['a row the primary changed or deleted does not exist on this replica: the data differs', DIVERGED_DATA],
  1062: ['a row the primary inserted already exists on this replica: the replica holds data the primary never had', DIVERGED_DATA],
  1146: ['a table the primary wrote to does not exist on this replica', DIVERGED_DATA],
  1236: ['the primary cannot send the events this replica needs next: its binlogs were purged, or the replica\'s position is not in them', `restarting cannot help; ${REBUILD}`],
  1593: ['fatal replication error (often: the primary and the replica share a server_id)', 'check server_id on both servers, fix it and restart replication'],
  1950: ['the replica\'s binlog has transactions of its own, so the primary\'s next one would be out of order (gtid_strict_mode)', REBUILD],
  2002: ['the replica cannot reach the primary\'s socket', RECONNECTS],
  2003: ['the replica cannot open a connection to the primary (refused or unreachable)', RECONNECTS],
  2005: ['the primary\'s host name does not resolve', 'check DNS and MASTER_HOST; if the primary moved, re-point the replica'],
  2006: ['the connection to the primary went away', RECONNECTS],
  2013: ['the connection to the primary was lost', RECONNECTS],
};

const TLS_NEXT_NOTE = 'repl-admin does not restart it: a restart cannot fix a certificate';

/**
 * Cause and next step of a replica whose IO thread failed on TLS (undefined: it did not), from
 * MariaDB's Last_IO_Error: the host-name check of MASTER_SSL_VERIFY_SERVER_CERT reports "SSL
 * certificate validation failure"; a certificate that does not chain to MASTER_SSL_CA (or that
 * expired) fails inside the handshake, with an OpenSSL message that is often empty.
 */
export function replicationTlsFailure(io: ReplicationErrorDto | null, masterHost: string): [cause: string, next: string] | undefined {
  if (!io || io.thread !== 'io' || (io.errno !== TLS_ERROR && !/SSL connection error/i.test(io.message))) return undefined;
  const detail = (/message: (.*)$/.exec(io.message)?.[1] ?? io.message).trim();
  if (/certificate validation failure|validation of SSL server certificate failed/i.test(detail)) {
    return [
      `replication TLS failed: the primary's certificate does not name the host the replica connects to (MASTER_HOST ${masterHost}): ${detail}`,
      `issue the primary's certificate for that address (npm run ca -- issue --ip/--dns) and restart the primary, or re-point the replica at a name in the certificate; ${TLS_NEXT_NOTE}`,
    ];
  }
  return [
    `replication TLS failed: the replica does not trust the primary's certificate (not signed by the CA in its MASTER_SSL_CA, or expired), or the TLS handshake failed: ${detail}`,
    `make MASTER_SSL_CA on the replica hold the CA that signed the primary's certificate and check its dates (npm run ca -- show), then restart replication; ${TLS_NEXT_NOTE}`,
  ];
}

const explainError = (e: ReplicationErrorDto): [string, string] =>
  ERRORS[e.errno] ?? [`the ${e.thread.toUpperCase()} thread stopped on error ${e.errno}: ${e.message}`, 'read the error, fix its cause, then restart replication; if the data differs from the primary, rebuild the replica'];

export interface ReplicaFacts {
  probe: ServerProbe;
  primaryReachable: boolean;
  heartbeatLagSeconds: number | null;
  lagThreshold: number;
  errant: Gtid[];
  purged: Gtid[];
}

export interface Diagnosis {
  state: ReplicaState;
  error: ReplicationErrorDto | null;
  cause: string;
  nextStep: string;
}

const threadError = (thread: 'io' | 'sql', errno: number, message: string): ReplicationErrorDto | null => (errno ? { thread, errno, message } : null);

/** One state per replica, with its error, a plain-language cause and the operator's next step. */
export function diagnose(f: ReplicaFacts): Diagnosis {
  const { probe, errant, purged } = f;
  const t = probe.threads;
  const node = probe.server.node ? `node ${probe.server.node}` : 'its host';
  if (!probe.reachable) {
    return { state: 'UNREACHABLE', error: null, cause: `repl-admin cannot read this server: ${probe.unreachableReason}`, nextStep: `check that mariadbd runs on ${node} and that the monitor account can log in from repl-admin` };
  }
  if (!t) return { state: 'UNCONFIGURED', error: null, cause: 'this server does not replicate from any primary', nextStep: 'rebuild it from the primary, which also sets up replication' };
  const io = threadError('io', t.lastIoErrno, t.lastIoError);
  const sql = threadError('sql', t.lastSqlErrno, t.lastSqlError);
  if (errant.length > 0) {
    return { state: 'DIVERGED', error: sql ?? io, cause: `its binlog holds transactions the primary never had (${formatGtids(errant)}): written on the replica itself`, nextStep: `do not promote it and do not skip anything; ${REBUILD}` };
  }
  const withError = (state: ReplicaState, e: ReplicationErrorDto): Diagnosis => {
    const [cause, nextStep] = explainError(e);
    return { state, error: e, cause, nextStep };
  };
  if (t.sqlRunning !== 'Yes' && sql) return withError('SQL_ERROR', sql);
  const tls = t.ioRunning !== 'Yes' ? replicationTlsFailure(io, t.masterHost) : undefined;
  if (tls) return { state: 'TLS_ERROR', error: io, cause: tls[0], nextStep: tls[1] };
  if (t.ioRunning === 'No' && io) return withError('IO_ERROR', io);
  if (t.ioRunning === 'No' || t.sqlRunning !== 'Yes') {
    const next = purged.length > 0
      ? `do not restart it: the primary no longer has the binlogs it needs after ${formatGtids(purged)} (it would fail with 1236); ${REBUILD}`
      : 'start it again with the restart action once whoever stopped it is done';
    return { state: 'STOPPED', error: null, cause: `replication was stopped without an error (IO thread ${t.ioRunning}, SQL thread ${t.sqlRunning})`, nextStep: next };
  }
  if (t.ioRunning !== 'Yes') {
    if (!f.primaryReachable) {
      return {
        state: 'IO_CONNECTING',
        error: io,
        cause: 'the primary is unreachable; the replica keeps trying to connect',
        nextStep: 'bring the primary back: the replicas resume by themselves. Do not restart replication meanwhile (that discards relay logs)',
      };
    }
    const [cause, nextStep] = io ? explainError(io) : ['the replica is connecting to the primary', 'wait a few seconds; repl-admin restarts the IO thread if it stays stuck while the primary answers'];
    return { state: 'IO_CONNECTING', error: io, cause, nextStep };
  }
  const lag = f.heartbeatLagSeconds ?? t.secondsBehindMaster;
  if (lag !== null && lag > f.lagThreshold) {
    const sbm = t.secondsBehindMaster === null ? 'NULL' : `${t.secondsBehindMaster} s`;
    return {
      state: 'LAGGING',
      error: null,
      cause: `the newest heartbeat it applied is ${lag.toFixed(1)} s old (Seconds_Behind_Master says ${sbm})${f.primaryReachable ? '' : '; the primary is not answering, so nothing new reaches it'}`,
      nextStep: f.primaryReachable
        ? 'look for long transactions or locks on the replica (SHOW PROCESSLIST), load, or a slow link; it catches up once they end'
        : 'check the primary (stopped, overloaded or cut off from this node)',
    };
  }
  return { state: 'OK', error: null, cause: `replicating; heartbeat lag ${lag === null ? 'unknown' : `${lag.toFixed(1)} s`}`, nextStep: 'nothing to do' };
}
