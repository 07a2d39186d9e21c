import { createApi } from './app/bootstrap';
import { ApiEnv, EnvError, loadEnv } from './app/config/env';

async function main(): Promise<void> {
  const env = loadEnv(ApiEnv, process.env);
  const app = await createApi(env);
  await app.listen(env.PORT, env.HOST);
}

main().catch((err: unknown) => {
  // One line, no stack, for the errors an operator fixes in the environment.
  console.error(err instanceof EnvError ? `api: ${err.message}` : err);
  process.exit(1);
});
