import { DynamicModule, Global, Module } from '@nestjs/common';

/** Injection token of a service's validated environment: `@Inject(ENV) env: ApiEnv`. */
export const ENV = Symbol('ENV');

/** Makes the service's validated settings object injectable everywhere as ENV. */
@Global()
@Module({})
export class EnvModule {
  static forRoot(env: object): DynamicModule {
    return { module: EnvModule, providers: [{ provide: ENV, useValue: env }], exports: [ENV] };
  }
}
