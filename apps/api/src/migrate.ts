import { loadEnv, runMain } from '@vita/runtime';
import { migrate, MigrateEnv } from './app/db/migrate';

runMain('migrate', async () => {
  const applied = await migrate(loadEnv(MigrateEnv, process.env));
  console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema is up to date');
});
