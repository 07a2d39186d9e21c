import { rebuildStatements, type Snapshot } from './rebuild';

const snapshot: Snapshot = { gtid: '0-1-42', databases: [{ schema: 'vita', create: 'CREATE DATABASE `vita`' }], tables: [] };
const source = { host: '10.77.0.2', port: 3306, credentials: { user: 'vita_repl', password: 'pw-never-shown' }, connectRetry: null, tlsCa: null };
const changeMaster = (s: ReturnType<typeof rebuildStatements>) => s.find((x) => x.sql.startsWith('CHANGE MASTER'));

describe('rebuildStatements: where the rebuilt replica replicates from', () => {
  it('without a CA: plain replication from the source', () => {
    const change = changeMaster(rebuildStatements(snapshot, [], source));
    expect(change?.sql).toBe('CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos');
  });

  it('with REPL_REPLICA_TLS_CA: TLS, the primary certificate and host name verified against that CA', () => {
    const change = changeMaster(rebuildStatements(snapshot, [], { ...source, tlsCa: '/var/lib/vita/tls/ca.crt' }));
    expect(change?.sql).toBe(
      'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_SSL=1, MASTER_SSL_CA=?, MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_USE_GTID=slave_pos',
    );
    expect(change?.params?.[4]).toBe('/var/lib/vita/tls/ca.crt');
    expect(change?.display ?? '').not.toContain('pw-never-shown');
  });
});
