import { type HostPort, loadEnv, parseHostPort } from '@vita/runtime';
import { ReplAdminEnv } from './env';
import { loadServersFile, parseServerList, type ServerConfig, type Servers } from './servers';

/** The validated environment and the servers it names; injectable as ENV (`@Inject(ENV) config: ReplConfig`). */
export interface ReplConfig {
  env: ReplAdminEnv;
  servers: Servers;
  /** Primary first. */
  all: ServerConfig[];
  /** The primary's address as the replicas use it (REPL_PRIMARY_REPLICATION_ADDRESS, else its REPL_SERVERS address). */
  replicationSource: HostPort;
}

/** Validates the environment and the server list; throws an EnvError with one line naming the problem. */
export function loadConfig(source: Record<string, string | undefined>): ReplConfig {
  const env = loadEnv(ReplAdminEnv, source);
  const servers = env.REPL_SERVERS_FILE ? loadServersFile(env.REPL_SERVERS_FILE) : parseServerList(env.REPL_SERVERS as string);
  const { host, port } = env.REPL_PRIMARY_REPLICATION_ADDRESS ? parseHostPort(env.REPL_PRIMARY_REPLICATION_ADDRESS) : servers.primary;
  return { env, servers, all: [servers.primary, ...servers.replicas], replicationSource: { host, port } };
}
