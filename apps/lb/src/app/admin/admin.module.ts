import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthModule } from '@vita/health';
import { ADMIN_TOKEN, AdminTokenGuard, fastifyLogging, installRequestLogging, parseHostPort, PinoNestLogger } from '@vita/runtime';
import type { Logger } from 'pino';
import type { ControlPlane } from '../control/control-plane';
import { BackendsController } from './backends.controller';
import { StatsController } from './stats.controller';
import { StatsTokenGuard } from './stats-token.guard';
import { CONTROL_PLANE, STATS_TOKEN } from './tokens';

/** The admin plane's bearer tokens (from the environment; never logged, never sent to workers). */
export interface AdminTokens {
  /** `LB_ADMIN_TOKEN`: run-time state changes. */
  admin?: string;
  /** `LB_STATS_TOKEN`: the stats page, /stats and /metrics. */
  stats?: string;
}

/** Connections the admin plane keeps open at once (Node closes those beyond): it is for a few operators and scrapers. */
export const ADMIN_MAX_CONNECTIONS = 128;

/** An admin connection silent this long is closed (so silent connections cannot hold the cap, health probes included). */
export const ADMIN_IDLE_MS = 5000;

/** The admin plane: stats (JSON, HTML, Prometheus), run-time backend states, health probes. */
@Module({})
export class AdminModule {
  static forRoot(control: ControlPlane, tokens: AdminTokens): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        HealthModule.forRoot({
          indicators: [
            {
              name: 'backends',
              // Ready while some backend takes requests and lb is not draining.
              check: async () => {
                const ok = control.serving();
                const detail = { draining: control.draining, up: control.routes().filter((r) => r.up && r.admin === 'ready').map((r) => r.name) };
                return { ok, detail, ...(ok ? {} : { error: control.draining ? 'draining' : 'no backend is up' }) };
              },
            },
          ],
        }),
      ],
      controllers: [StatsController, BackendsController],
      providers: [
        { provide: CONTROL_PLANE, useValue: control },
        { provide: ADMIN_TOKEN, useValue: { token: tokens.admin, variable: 'LB_ADMIN_TOKEN' } },
        AdminTokenGuard,
        { provide: STATS_TOKEN, useValue: { token: tokens.stats, variable: 'LB_STATS_TOKEN' } },
        StatsTokenGuard,
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
      ],
    };
  }
}

/** Builds the admin plane and starts it on `admin.listen`. */
export async function startAdmin(control: ControlPlane, tokens: AdminTokens, logger: Logger & { flushPending(): void }): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ ...fastifyLogging(logger), connectionTimeout: ADMIN_IDLE_MS, keepAliveTimeout: ADMIN_IDLE_MS, requestTimeout: ADMIN_IDLE_MS });
  installRequestLogging(adapter.getInstance(), logger);
  const app = await NestFactory.create<NestFastifyApplication>(AdminModule.forRoot(control, tokens), adapter, { logger: new PinoNestLogger(logger) });
  const { host, port } = parseHostPort(control.config.admin.listen);
  await app.listen(port, host).catch(async (err: Error) => {
    await app.close();
    throw new Error(`the admin plane cannot listen on ${control.config.admin.listen}: ${err.message}`);
  });
  app.getHttpServer().maxConnections = ADMIN_MAX_CONNECTIONS;
  return app;
}
