import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadEnv } from '@vita/runtime';
import { AdminConfig, ConfigError, LbConfig, validateConfig } from './config';
import { LbEnv } from './env';
import { loadTlsFiles } from './tls-files';

/** The plain listener's default when `https` is set (and `listen`, LB_LISTEN, are not). */
export const PLAIN_WITH_HTTPS = '0.0.0.0:80';

export interface LoadedConfig {
  config: LbConfig;
  /** Where it came from: the file and the variables that overrode it. */
  source: string;
  /** Bearer token for run-time state changes (never part of the config that is logged or sent to workers). */
  adminToken?: string;
  /** Bearer token of the stats page, /stats and /metrics (the same: never logged, never sent to workers). */
  statsToken?: string;
  /** Alert webhook (the same: never logged, never sent to workers) and how often an open alert is posted again. */
  alerts: { url?: string; repeatMs: number };
}

function readDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`${file} must hold a mapping of settings`);
  return doc as Record<string, unknown>;
}

const section = (doc: Record<string, unknown>, key: string): Record<string, unknown> => {
  const value = doc[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
};

/**
 * The configuration in force: the file named by LB_CONFIG (if any), overridden by LB_* variables,
 * validated. Throws an EnvError or ConfigError whose message is one line naming what is wrong.
 */
export function loadConfig(environment: Record<string, string | undefined>): LoadedConfig {
  const env = loadEnv(LbEnv, environment);
  const doc = env.LB_CONFIG ? readDocument(env.LB_CONFIG) : {};
  const overrides: string[] = [];
  const override = (variable: keyof LbEnv, apply: (value: string) => void) => {
    const value = env[variable];
    if (value === undefined) return;
    apply(String(value));
    overrides.push(variable);
  };
  override('LB_LISTEN', (v) => (doc['listen'] = v));
  override('LB_ADMIN_LISTEN', (v) => (doc['admin'] = { ...section(doc, 'admin'), listen: v }));
  override('LB_WORKERS', (v) => (doc['workers'] = Number(v)));
  override('LB_ALGORITHM', (v) => (doc['algorithm'] = v));
  override('LB_ACCESS_LOG', (v) => (doc['accessLog'] = { ...section(doc, 'accessLog'), to: v }));
  override('LOG_LEVEL', (v) => (doc['logLevel'] = v));
  const servers = (v: string) =>
    v.split(',').map((entry) => {
      const at = entry.indexOf('=');
      return { name: entry.slice(0, at).trim(), url: entry.slice(at + 1).trim() };
    });
  override('LB_BACKENDS', (v) => (doc['backends'] = servers(v)));
  override('LB_BACKUPS', (v) => (doc['backups'] = servers(v)));
  override('LB_NODE_NAME', (v) => (doc['nodeName'] = v));
  override('LB_BACKUP_CA', (v) => (doc['backupCa'] = v));
  override('LB_PEER_LISTEN', (v) => (doc['peer'] = { ...section(doc, 'peer'), listen: v }));
  override('LB_PEER_TLS_CERT', (v) => (doc['peer'] = { ...section(doc, 'peer'), tlsCert: v }));
  override('LB_PEER_TLS_KEY', (v) => (doc['peer'] = { ...section(doc, 'peer'), tlsKey: v }));
  override('LB_PEERS_URL', (v) => (doc['peers'] = { ...section(doc, 'peers'), url: v }));
  override('LB_PEERS_INTERVAL_MS', (v) => (doc['peers'] = { ...section(doc, 'peers'), intervalMs: Number(v) }));
  const where = env.LB_CONFIG ?? 'defaults';
  let config: LbConfig;
  try {
    // With https, the plain listener is there for the ACME challenges and the redirects, which arrive on port 80.
    if (doc['https'] !== undefined && doc['listen'] === undefined) doc['listen'] = PLAIN_WITH_HTTPS;
    config = validateConfig(doc);
    loadTlsFiles(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(`invalid configuration (${[where, ...overrides].join(' + ')}): ${err.message}`);
  }
  const alerts = { url: env.LB_ALERT_WEBHOOK_URL, repeatMs: (env.LB_ALERT_REPEAT_SECONDS ?? 3600) * 1000 };
  return { config, source: [where, ...overrides].join(' + '), adminToken: env.LB_ADMIN_TOKEN, statsToken: env.LB_STATS_TOKEN, alerts };
}

/**
 * Where the admin plane listens, read without validating anything else: the container HEALTHCHECK
 * must follow a running lb even when its file has since been edited into a bad state.
 */
export function adminListen(environment: Record<string, string | undefined>): string {
  const fromEnv = environment['LB_ADMIN_LISTEN']?.trim();
  if (fromEnv) return fromEnv;
  try {
    const listen = environment['LB_CONFIG'] ? section(readDocument(environment['LB_CONFIG']), 'admin')['listen'] : undefined;
    if (typeof listen === 'string') return listen;
  } catch {
    // unreadable: the default, like lb itself would have had to use
  }
  return new AdminConfig().listen;
}
