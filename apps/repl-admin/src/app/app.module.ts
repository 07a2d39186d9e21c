import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { HealthModule } from '@vita/health';
import { EnvModule } from '@vita/runtime';
import { ActionsModule } from './actions/actions.module';
import type { ReplConfig } from './config/config';
import { MetricsModule } from './metrics/metrics.module';
import { MonitorModule } from './monitor/monitor.module';
import { PollerService } from './monitor/poller.service';
import { SitesModule } from './sites/sites.module';
import { StatusModule } from './status/status.module';

@Module({})
export class AppModule {
  static forRoot(config: ReplConfig): DynamicModule {
    const env = config.env;
    // A check is overdue after three intervals plus the bound on each server's answer.
    const staleMs = 3 * env.REPL_POLL_INTERVAL_MS + 2 * env.REPL_QUERY_TIMEOUT_MS;
    return {
      module: AppModule,
      imports: [
        EnvModule.forRoot(config),
        MetricsModule,
        MonitorModule,
        StatusModule,
        ActionsModule,
        SitesModule,
        HealthModule.forRootAsync({
          imports: [MonitorModule],
          inject: [PollerService],
          useFactory: (poller: PollerService) => ({
            indicators: [
              {
                name: 'monitor',
                // Ready while checks keep coming: a broken topology is what repl-admin reports, not a reason to be unready.
                check: async () => {
                  const t = poller.current();
                  const age = t ? Date.now() - Date.parse(t.checkedAt) : null;
                  const ok = age !== null && age <= staleMs;
                  return { ok, detail: { lastCheck: t?.checkedAt ?? null }, ...(ok ? {} : { error: t ? `the last check is ${Math.round((age ?? 0) / 1000)} s old` : 'no check has completed yet' }) };
                },
              },
            ],
          }),
        }),
      ],
      providers: [{ provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) }],
    };
  }
}
