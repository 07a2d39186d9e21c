import { isAbsolute, join, relative, resolve } from 'node:path';
import { startStack, stackOptionsFromEnv, type RunningStack, type StackOptions } from '@vita/stack';

/** A path as the user types it from here: relative when it is inside the current folder. */
const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
};

/** What a newcomer needs to see DNS failover work: the status page, the record, how to drain (the token read from the secrets file, never typed). */
function dnsLines(stack: RunningStack, options: StackOptions): string[] {
  if (!stack.dns) return [`  DNS failover     ${stack.dnsSkipped ?? 'off (VITA_DNS=off)'}`];
  const { controller, bind, name } = stack.dns;
  const url = `http://127.0.0.1:${controller.port}`;
  const cli = `${controller.port === 3300 ? '' : `DNS_URL=${url} `}node dist/apps/dns/cli.js`;
  const secrets = shown(join(options.home, 'secrets.env'));
  return [
    `  DNS failover     ${url}/  (controller status page; ${cli} status)`,
    `  the record       dig @127.0.0.1 -p ${bind.port} ${name}   (BIND on 127.0.0.1:${bind.port}, zone ${bind.zone}: ${stack.dns.address} while the lb answers)`,
    `  drain a node     set -a; . ${secrets}; set +a; ${cli} drain local --reason "…"`,
    `                   (with one node the controller refuses it: the last node is never drained; undrain the same way)`,
  ];
}

/** The https URL and how to trust the local CA behind it: in the system store, the browsers, curl and Node. */
function httpsLines(stack: RunningStack): string[] {
  if (!stack.https) return [`  résumé (HTTPS)   ${stack.lb ? 'off (VITA_HTTPS=off)' : '-'}`];
  const { url, caCert, caMade } = stack.https;
  const ca = shown(caCert);
  return [
    `  résumé (HTTPS)   ${url}  (lb terminates TLS as in production; certificate from the local CA)`,
    `  trust the CA     ${ca}  (${caMade ? 'made on this start: trust it once' : 'the same CA as before: trusted once is enough'}; it may vouch for localhost and loopback addresses only)`,
    `    Debian/Ubuntu  sudo cp ${ca} /usr/local/share/ca-certificates/vita-local-ca.crt && sudo update-ca-certificates`,
    `    Firefox        Settings → Privacy & Security → Certificates → View Certificates… → Authorities → Import… ${ca} (trust it to identify websites)`,
    `    Chrome         Settings → Privacy and security → Security → Manage certificates → import ${ca} as an authority`,
    `                   (Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "Vita local CA" -i ${ca}; certutil is in libnss3-tools)`,
    `    curl, Node     curl --cacert ${ca} ${url}   NODE_EXTRA_CA_CERTS=${ca} node …`,
  ];
}

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
${httpsLines(stack).join('\n')}
  web instances    ${stack.webs.map((w) => `${w.url}/`).join('  ')}
  lb stats         ${stack.lb ? `http://127.0.0.1:${options.lb?.adminPort}/stats` : '-'}
  résumé (JSON)    ${stack.apis.map((a) => `${a.url}/api/v1/resume`).join('  ')}
  probes           ${stack.apis[0].url}/api/v1/testapi  ${stack.apis[0].url}/api/v1/testdb
  health           ${stack.apis[0].url}/health/ready
  replication      ${stack.replAdmin ? `${stack.replAdmin.url}/  (CLI: npx nx run repl-admin:cli -- status)` : '-'}
  MariaDB          primary 127.0.0.1:${options.primaryPort}, replica 127.0.0.1:${options.replicaPort}
${dnsLines(stack, options).join('\n')}
  admin tokens     VITA_ADMIN_TOKEN (api), LB_ADMIN_TOKEN (lb), REPL_ADMIN_TOKEN (repl-admin), DNS_ADMIN_TOKEN (dns) in ${options.home}/secrets.env
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
