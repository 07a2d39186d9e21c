import { DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { HealthModule } from '@vita/health';
import { ADMIN_TOKEN, AdminTokenGuard, EnvModule } from '@vita/runtime';
import { ENGINE } from './api/engine.token';
import { AUDIT, NodesController } from './api/nodes.controller';
import { PeerController } from './api/peer.controller';
import { METRICS, StatusController } from './api/status.controller';
import { PEER_TOKEN, PeerTokenGuard } from './api/tokens';
import type { DnsConfig } from './config/config';
import type { Engine } from './controller/engine';
import type { DnsAudit } from './drain/audit';
import type { DnsMetrics } from './status/metrics';

export interface DnsParts {
  engine: Engine;
  audit: DnsAudit;
  metrics: DnsMetrics;
}

/** On close (SIGTERM, app.close()): rounds stop, provider calls in flight end, the audit file is written. */
@Injectable()
class Lifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(AUDIT) private readonly audit: DnsAudit,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.engine.stop();
    await this.audit.flushed();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: DnsConfig, parts: DnsParts): DynamicModule {
    const env = config.env;
    // Rounds are overdue after three intervals plus the bound on each probe and exchange.
    const staleMs = 3 * env.DNS_PROBE_INTERVAL_MS + 2 * env.DNS_PROBE_TIMEOUT_MS;
    return {
      module: AppModule,
      imports: [
        EnvModule.forRoot(config),
        HealthModule.forRoot({
          indicators: [
            {
              name: 'probes',
              // Ready while rounds keep coming: a node being down is what this service reports, not a reason to be unready.
              check: async () => {
                const s = parts.engine.status();
                const last = s.endpoints.map((e) => Date.parse(e.here?.last?.at ?? '')).filter(Number.isFinite);
                const age = last.length ? Date.now() - Math.max(...last) : null;
                const ok = age !== null && age <= staleMs;
                return { ok, detail: { rounds: s.rounds, quorum: s.quorum }, ...(ok ? {} : { error: age === null ? 'no round has completed yet' : `the last round is ${Math.round(age / 1000)} s old` }) };
              },
            },
          ],
        }),
      ],
      controllers: [StatusController, NodesController, PeerController],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
        { provide: ENGINE, useValue: parts.engine },
        { provide: AUDIT, useValue: parts.audit },
        { provide: METRICS, useValue: parts.metrics },
        { provide: ADMIN_TOKEN, useValue: { token: env.DNS_ADMIN_TOKEN, variable: 'DNS_ADMIN_TOKEN' } },
        { provide: PEER_TOKEN, useValue: { token: env.DNS_PEER_TOKEN, variable: 'DNS_PEER_TOKEN' } },
        AdminTokenGuard,
        PeerTokenGuard,
        Lifecycle,
      ],
    };
  }
}
