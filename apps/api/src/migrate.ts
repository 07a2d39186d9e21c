import { loadEnv, runMain } from '@vita/runtime';
import { migrate, MigrateEnv, pendingSchemaChanges } from './app/db/migrate';

runMain('migrate', async () => {
  const env = loadEnv(MigrateEnv, process.env);
  if (process.argv.includes('--check')) {
    const changes = await pendingSchemaChanges(env);
    if (changes.length > 0) throw new Error(`the entities and the migrations disagree; a new migration needs: ${changes.join('; ')}`);
    console.log('the entities match the migrations');
    return;
  }
  const applied = await migrate(env);
  console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema is up to date');
});
