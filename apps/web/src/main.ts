import { loadEnv, runMain } from '@vita/runtime';
import { createWeb } from './app/bootstrap';
import { WebEnv } from './app/config/env';

runMain('web', async () => {
  const env = loadEnv(WebEnv, process.env);
  const app = await createWeb(env);
  await app.listen(env.PORT, env.HOST);
});
