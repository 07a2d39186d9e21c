import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadEnv } from '@vita/runtime';
import { ReplAdminEnv } from './env';
import { loadServersFile, parseServerList, ServerConfig, Servers } from './servers';

/** The validated environment and the servers it names. */
export interface ReplConfig {
  env: ReplAdminEnv;
  servers: Servers;
  /** Primary first. */
  all: ServerConfig[];
}

export const REPL_CONFIG = Symbol('REPL_CONFIG');

/** Validates the environment and the server list; throws an EnvError with one line naming the problem. */
export function loadConfig(source: Record<string, string | undefined>): ReplConfig {
  const env = loadEnv(ReplAdminEnv, source);
  const servers = env.REPL_SERVERS_FILE ? loadServersFile(env.REPL_SERVERS_FILE) : parseServerList(env.REPL_SERVERS as string);
  return { env, servers, all: [servers.primary, ...servers.replicas] };
}

/** Makes the configuration injectable everywhere as REPL_CONFIG. */
@Global()
@Module({})
export class ReplConfigModule {
  static forRoot(config: ReplConfig): DynamicModule {
    return { module: ReplConfigModule, providers: [{ provide: REPL_CONFIG, useValue: config }], exports: [REPL_CONFIG] };
  }
}
