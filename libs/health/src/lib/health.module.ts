import { DynamicModule, FactoryProvider, Module, ModuleMetadata } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { HEALTH_OPTIONS, HealthModuleOptions } from './health.types';

export interface HealthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: FactoryProvider<HealthModuleOptions | Promise<HealthModuleOptions>>['useFactory'];
  inject?: FactoryProvider['inject'];
}

/** `/health/live` and `/health/ready` for any Vita service. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }, HealthService],
      exports: [HealthService],
    };
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        HealthService,
      ],
      exports: [HealthService],
    };
  }
}
