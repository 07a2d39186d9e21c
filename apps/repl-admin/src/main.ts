import { runMain } from '@vita/runtime';
import { createReplAdmin } from './app/bootstrap';
import { loadConfig } from './app/config/config';

runMain('repl-admin', async () => {
  const config = loadConfig(process.env);
  const app = await createReplAdmin(config);
  await app.listen(config.env.PORT, config.env.HOST);
});
