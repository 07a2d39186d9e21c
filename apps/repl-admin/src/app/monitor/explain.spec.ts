import type { ServerConfig } from '../config/servers';
import { diagnose, type ReplicaFacts } from './explain';
import type { ReplicaThreads, ServerProbe } from './probe';
import { unreachable } from './probe';

const server: ServerConfig = { name: 'replica1', host: '127.0.0.1', port: 3307, node: 'node-a', role: 'replica' };
const threads = (change: Partial<ReplicaThreads>): ReplicaThreads => ({
  ioRunning: 'Yes', sqlRunning: 'Yes', lastIoErrno: 0, lastIoError: '', lastSqlErrno: 0, lastSqlError: '', secondsBehindMaster: 0,
  masterHost: '127.0.0.1', masterPort: 3306, masterUser: 'repl', connectRetry: 1, gtidIoPos: '', usingGtid: 'Slave_Pos', ...change,
});
const facts = (t: ReplicaThreads): ReplicaFacts => ({
  probe: { ...unreachable(server, ''), reachable: true, unreachableReason: null, threads: t } as ServerProbe,
  primaryReachable: true, heartbeatLagSeconds: 0, lagThreshold: 10, errant: [], purged: [],
});
// As MariaDB 10.11 (OpenSSL 3) reports them in Last_IO_Error.
const ioError = (message: string) => `error connecting to master 'repl@127.0.0.1:3306' - retry-time: 1  maximum-retries: 100000  message: ${message}`;

describe('diagnosis of replication over TLS', () => {
  it('a certificate the replica does not trust: TLS_ERROR naming the cause, whether the IO thread retries or stopped', () => {
    for (const ioRunning of ['Connecting', 'No']) {
      const d = diagnose(facts(threads({ ioRunning, lastIoErrno: 2026, lastIoError: ioError('SSL connection error: error:00000000:lib(0)::reason(0)') })));
      expect(d).toMatchObject({ state: 'TLS_ERROR', error: { thread: 'io', errno: 2026 } });
      expect(d.cause).toBe("replication TLS failed: the replica does not trust the primary's certificate (not signed by the CA in its MASTER_SSL_CA, or expired), or the TLS handshake failed: SSL connection error: error:00000000:lib(0)::reason(0)");
      expect(d.nextStep).toMatch(/MASTER_SSL_CA .* a restart cannot fix a certificate$/);
    }
  });

  it('a certificate for another host: TLS_ERROR naming MASTER_HOST', () => {
    const d = diagnose(facts(threads({ ioRunning: 'Connecting', lastIoErrno: 2026, lastIoError: ioError('SSL connection error: SSL certificate validation failure') })));
    expect(d.state).toBe('TLS_ERROR');
    expect(d.cause).toBe("replication TLS failed: the primary's certificate does not name the host the replica connects to (MASTER_HOST 127.0.0.1): SSL connection error: SSL certificate validation failure");
  });

  it('an old TLS error while replication runs again is no TLS_ERROR; an SQL error comes first', () => {
    expect(diagnose(facts(threads({ lastIoErrno: 2026, lastIoError: ioError('SSL connection error: x') }))).state).toBe('OK');
    expect(diagnose(facts(threads({ ioRunning: 'Connecting', lastIoErrno: 2026, lastIoError: ioError('SSL connection error: x'), sqlRunning: 'No', lastSqlErrno: 1062, lastSqlError: 'dup' }))).state).toBe('SQL_ERROR');
  });

  it('an account that must use TLS, reached without it, is explained under 1045', () => {
    const d = diagnose(facts(threads({ ioRunning: 'Connecting', lastIoErrno: 1045, lastIoError: ioError("Access denied for user 'repl'@'127.0.0.1' (using password: YES)") })));
    expect(d.state).toBe('IO_CONNECTING');
    expect(d.cause).toMatch(/REQUIRE SSL or require_secure_transport, and the replica connects without MASTER_SSL/);
  });
});
