import { runMain } from '@vita/runtime';
import { createDns, readSetting } from './app/bootstrap';
import { loadConfig } from './app/config/config';
import { buildProviders } from './app/providers/factory';

runMain('dns', async () => {
  const config = loadConfig(process.env);
  const { app, engine } = await createDns(config, buildProviders(config, readSetting));
  await app.listen(config.env.PORT, config.env.HOST);
  engine.start();
});
