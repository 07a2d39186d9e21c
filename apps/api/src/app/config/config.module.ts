import { DynamicModule, Global, Module } from '@nestjs/common';
import type { ApiEnv } from './env';

export const API_ENV = Symbol('API_ENV');

/** Makes the validated environment injectable everywhere as API_ENV. */
@Global()
@Module({})
export class ApiConfigModule {
  static forRoot(env: ApiEnv): DynamicModule {
    return { module: ApiConfigModule, providers: [{ provide: API_ENV, useValue: env }], exports: [API_ENV] };
  }
}
