import { loadEnv, runMain } from '@vita/runtime';
import { createApi } from './app/bootstrap';
import { ApiEnv } from './app/config/env';

runMain('api', async () => {
  const env = loadEnv(ApiEnv, process.env);
  const app = await createApi(env);
  await app.listen(env.PORT, env.HOST);
});
