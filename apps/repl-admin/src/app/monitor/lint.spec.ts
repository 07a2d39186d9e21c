import { loadConfig } from '../config/config';
import { lintServer, lintTopology } from './lint';
import type { ServerProbe, ServerVars } from './probe';
import { unreachable } from './probe';

const config = loadConfig({
  REPL_SERVERS: 'primary=10.0.0.1:3306,replica1=10.0.0.2:3306',
  REPL_MONITOR_USER: 'm',
  REPL_MONITOR_PASSWORD: 'm',
  REPL_ADMIN_USER: 'repl_admin',
  REPL_ADMIN_PASSWORD: 'a',
  REPL_ADMIN_TOKEN: 'a-token-of-sufficient-length',
});
const [primary, replica] = config.all;
const good: ServerVars = { serverId: 1, readOnly: false, binlogFormat: 'ROW', gtidStrictMode: true, logBin: true, logSlaveUpdates: true, binlogExpireSeconds: 604_800, gtidBinlogPos: '', gtidBinlogState: '', gtidSlavePos: '' };
const probe = (server = primary, vars: Partial<ServerVars> = {}, extra: Partial<ServerProbe> = {}): ServerProbe => ({
  ...unreachable(server, ''),
  reachable: true,
  unreachableReason: null,
  vars: { ...good, ...(server.role === 'replica' ? { serverId: 2, readOnly: true } : {}), ...vars },
  bypassAccounts: server.role === 'primary' ? ['root@localhost', 'repl_admin@%'] : null,
  ...extra,
});
const codes = (p: ServerProbe) => lintServer(p, config).map((w) => w.code);

describe('configuration lint', () => {
  it('a well-configured primary and replica pass', () => {
    expect(codes(probe())).toEqual([]);
    expect(codes(probe(replica))).toEqual([]);
    expect(lintTopology([probe(), probe(replica)])).toEqual([]);
  });

  it('names each problem', () => {
    expect(codes(probe(primary, { binlogFormat: 'MIXED', gtidStrictMode: false, readOnly: true }))).toEqual(['BINLOG_FORMAT', 'GTID_STRICT_MODE', 'READ_ONLY']);
    expect(codes(probe(replica, { readOnly: false, logSlaveUpdates: false }))).toEqual(['READ_ONLY', 'LOG_BIN']);
    expect(lintServer(probe(primary, { binlogExpireSeconds: 0 }), config)[0].message).toMatch(/never purged/);
    expect(lintServer(probe(primary, { binlogExpireSeconds: 3600 }), config)[0].message).toMatch(/kept 1 h: a replica down for longer must be rebuilt/);
    expect(lintServer(probe(primary, {}, { bypassAccounts: ['root@localhost', 'vita_writer@%'] }), config)).toEqual([
      { code: 'ACCOUNT_BYPASSES_READ_ONLY', server: 'primary', message: expect.stringMatching(/vita_writer@% has READ ONLY ADMIN/) },
    ]);
    expect(codes(probe(primary, {}, { bypassAccounts: null, accountsError: 'no such table' }))).toEqual(['ACCOUNTS_UNCHECKED']);
    expect(lintTopology([probe(), probe(replica, { serverId: 1 })]).map((w) => [w.code, w.server])).toEqual([['SERVER_ID', 'primary'], ['SERVER_ID', 'replica1']]);
    expect(lintServer(unreachable(replica, 'down'), config)).toEqual([]);
  });
});
