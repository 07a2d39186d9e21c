import { resolve } from 'node:path';
import { startStack, stackOptionsFromEnv } from '@vita/stack';

// `npm start`: the whole Vita stack on this machine, until Ctrl-C.
async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const say = (line: string) => console.log(`[vita] ${line}`);
  const options = stackOptionsFromEnv(root, process.env, say);
  say(`starting the stack (data in ${options.home})`);
  const stack = await startStack(options);

  console.log(`
Vita is running:
  résumé           ${stack.lb ? `http://localhost:${options.lb?.port}/` : stack.webs.map((w) => `${w.url}/`).join('  ')}
  web instances    ${stack.webs.map((w) => `${w.url}/`).join('  ')}
  lb stats         ${stack.lb ? `http://127.0.0.1:${options.lb?.adminPort}/stats` : '-'}
  résumé (JSON)    ${stack.apis.map((a) => `${a.url}/api/v1/resume`).join('  ')}
  probes           ${stack.apis[0].url}/api/v1/testapi  ${stack.apis[0].url}/api/v1/testdb
  health           ${stack.apis[0].url}/health/ready
  replication      ${stack.replAdmin ? `${stack.replAdmin.url}/  (CLI: npx nx run repl-admin:cli -- status)` : '-'}
  MariaDB          primary 127.0.0.1:${options.primaryPort}, replica 127.0.0.1:${options.replicaPort}
  admin tokens     VITA_ADMIN_TOKEN (api), LB_ADMIN_TOKEN (lb), REPL_ADMIN_TOKEN (repl-admin) in ${options.home}/secrets.env
  logs             ${options.home}/logs/
Press Ctrl-C to stop.`);
  say('ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping…`);
    stack.stop().then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`[vita] stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`[vita] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
