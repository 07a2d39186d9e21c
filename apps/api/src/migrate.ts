import { EnvError, loadEnv } from './app/config/env';
import { migrate, MigrateEnv } from './app/db/migrate';

migrate(loadEnv(MigrateEnv, process.env))
  .then((applied) => console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema is up to date'))
  .catch((err: unknown) => {
    console.error(`migrate: ${err instanceof EnvError || err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
