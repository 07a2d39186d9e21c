import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { HealthModule } from '@vita/health';
import { EnvModule } from '@vita/runtime';
import type { ApiEnv } from './config/env';
import { DbModule } from './db/db.module';
import { ReadDatabases } from './db/read-databases.service';
import { ProbesModule } from './probes/probes.module';
import { ResumeModule } from './resume/resume.module';
import { SitesModule } from './sites/sites.module';
import { VersionsModule } from './versions/versions.module';

@Module({})
export class AppModule {
  static forRoot(env: ApiEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EnvModule.forRoot(env),
        DbModule,
        ResumeModule,
        ProbesModule,
        VersionsModule,
        SitesModule,
        HealthModule.forRootAsync({
          imports: [DbModule],
          inject: [ReadDatabases],
          useFactory: (reads: ReadDatabases) => ({
            indicators: [
              {
                name: 'read-database',
                // Ready while reads are served from a database that is current or as current as any can be,
                // and the primary is not below the version served (a restore: the error says what to do).
                // Every database is listed with its configured role, its state and, when passed over, why.
                check: async () => {
                  const { ok, error } = reads.readiness();
                  return {
                    ok,
                    detail: { active: reads.active?.name ?? null, servedVersion: reads.servedVersion ?? null, databases: reads.statuses(), primary: reads.primaryStatus() },
                    ...(error === undefined ? {} : { error }),
                  };
                },
              },
            ],
          }),
        }),
      ],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
      ],
    };
  }
}
