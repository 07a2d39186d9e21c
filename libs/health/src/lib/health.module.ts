import { DynamicModule, FactoryProvider, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { HEALTH_OPTIONS, HealthModuleOptions, validateHealthOptions } from './health.types';

export interface HealthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: FactoryProvider<HealthModuleOptions | Promise<HealthModuleOptions>>['useFactory'];
  inject?: FactoryProvider['inject'];
}

/** `/health/live` and `/health/ready` for any Vita service, on @nestjs/terminus. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return health([], { provide: HEALTH_OPTIONS, useValue: validateHealthOptions(options) });
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    return health(options.imports ?? [], {
      provide: HEALTH_OPTIONS,
      useFactory: async (...args: unknown[]) => validateHealthOptions(await options.useFactory(...args)),
      inject: options.inject ?? [],
    });
  }
}

function health(imports: NonNullable<ModuleMetadata['imports']>, optionsProvider: Provider): DynamicModule {
  return {
    module: HealthModule,
    // Terminus's own logger is off: it would log every failing probe's whole result.
    imports: [...imports, TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [optionsProvider, HealthService],
    exports: [HealthService],
  };
}
