import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AlertNotifier, createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '@vita/runtime';
import type { DnsProvider } from '@vita/dns-providers';
import { AppModule } from './app.module';
import type { DnsConfig } from './config/config';
import { Engine } from './controller/engine';
import { DnsAudit } from './drain/audit';
import { DrainStore } from './drain/drain-store';
import { Peers } from './peers/peer-client';
import { probe } from './probe/probe';
import { DnsMetrics } from './status/metrics';

/** Views are a few hundred bytes per node. */
const BODY_LIMIT = 1024 * 1024;

/** A file a setting names; the error names the setting. */
export function readSetting(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${variable}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export interface DnsApp {
  app: NestFastifyApplication;
  engine: Engine;
  audit: DnsAudit;
}

/**
 * Builds the controller (not yet listening, rounds not started: `engine.start()` after `listen`).
 * Used by main.ts and the tests, so both run the same app.
 */
export async function createDns(config: DnsConfig, providers: DnsProvider[]): Promise<DnsApp> {
  const env = config.env;
  const logger = createLogger('dns', env.LOG_LEVEL);
  const log = {
    info: (m: string) => logger.info(m),
    warn: (m: string) => logger.warn(m),
    error: (m: string) => logger.error(m),
    debug: (m: string) => logger.debug(m),
  };
  const metrics = new DnsMetrics();
  const audit = new DnsAudit(env.DNS_AUDIT_LOG, log);
  const drains = new DrainStore(env.DNS_STATE_FILE, config.nodes);
  const probeCa = env.DNS_PROBE_CA ? readSetting('DNS_PROBE_CA', env.DNS_PROBE_CA) : undefined;
  const peerCa = env.DNS_PEER_CA ? readSetting('DNS_PEER_CA', env.DNS_PEER_CA) : undefined;
  const freshMs = 3 * env.DNS_PROBE_INTERVAL_MS + env.DNS_PROBE_TIMEOUT_MS;
  const peers = new Peers(config.peers, config.vantage, env.DNS_PEER_TOKEN, env.DNS_PROBE_TIMEOUT_MS, freshMs, peerCa);
  const alerts = new AlertNotifier({ url: env.DNS_ALERT_WEBHOOK_URL, repeatMs: env.DNS_ALERT_REPEAT_SECONDS * 1000, counted: (event, result) => metrics.alerts.inc({ event, result }) }, log);
  const probeSettings = { scheme: env.DNS_PROBE_SCHEME as 'http' | 'https', port: env.DNS_PROBE_PORT, path: env.DNS_PROBE_PATH, name: config.name, timeoutMs: env.DNS_PROBE_TIMEOUT_MS, ca: probeCa, vantage: config.vantage };
  const engine = new Engine({ config, providers, probe: (e) => probe(e, probeSettings), peers, drains, audit, alerts, metrics, log });
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT, return503OnClosing: true, ...fastifyLogging(logger) });
  installRequestLogging(adapter.getInstance(), logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { engine, audit, metrics }), adapter, { logger: new PinoNestLogger(logger) });
  app.enableShutdownHooks();
  return { app, engine, audit };
}
