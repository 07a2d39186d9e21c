import type { Provider } from '@nestjs/common';
import { ADMIN_TOKEN, ENV } from '@vita/runtime';
import type { ApiEnv } from './env';

/** The bearer token of the api's write endpoints (AdminTokenGuard): VITA_ADMIN_TOKEN. */
export const ADMIN_TOKEN_PROVIDER: Provider = { provide: ADMIN_TOKEN, inject: [ENV], useFactory: (env: ApiEnv) => ({ token: env.VITA_ADMIN_TOKEN, variable: 'VITA_ADMIN_TOKEN' }) };
