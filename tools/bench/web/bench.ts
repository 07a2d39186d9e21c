import { startStack } from '@vita/stack';
import { freePort, workspaceRoot } from '@vita/testing';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag } from '../lib/args';
import { cpuPerOperation, formatCpu, processTree } from '../lib/processes';
import { compare, LoadOptions, requireWrk, runWrk } from '../lib/wrk';

/**
 * CPU time per request of each group of processes during one run against `url`: unlike requests per
 * second, hardly moved by other load on the machine, and it shows which tier the time goes to.
 */
function cpuPerRequest(url: string, groups: [string, number[]][], o: LoadOptions): string[] {
  const cpu = cpuPerOperation(
    groups.map(([, pids]) => pids),
    () => runWrk(url, o).requestsPerSecond * (o.seconds ?? 10),
  );
  return groups.map(([name], i) => `  ${name.padEnd(32)} ${formatCpu(cpu[i], 6)}`);
}

/**
 * The résumé page through the whole dynamic stack (lb → web ×2 → api ×2 → replica), beside nginx
 * serving the same page as a static file, and each hop on its own, under the same load; then the CPU
 * time per request of each tier (nginx; lb, web and api in the full stack; web alone).
 * Usage: npm run bench:web [-- --rounds 3 --seconds 10 --connections 64 --lb-workers 2]
 */
/** Bytes of one response on the wire: status line and headers, and body. */
function responseBytes(url: string): Promise<{ head: number; body: number }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = 0;
      res.on('data', (d: Buffer) => (body += d.length));
      res.on('end', () => {
        let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n\r\n`.length;
        for (let i = 0; i < res.rawHeaders.length; i += 2) head += res.rawHeaders[i].length + res.rawHeaders[i + 1].length + 4;
        resolve({ head, body });
      });
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const rounds = flag('rounds', 3);
  const seconds = flag('seconds', 10);
  const connections = flag('connections', 64);
  requireWrk();
  if (spawnSync('nginx', ['-v']).error) throw new Error('nginx not found: install it with `apt-get install -y nginx` (as root)');
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-bench-web-'));
  console.log('building api, web and lb…');
  if (spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', 'api,web,lb'], { cwd: root, stdio: 'ignore' }).status !== 0) throw new Error('build failed');

  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const [primaryPort, replicaPort, api1, api2, web1, web2, lbPort, lbAdminPort] = ports;
  const nginxPort = await freePort();
  const stack = await startStack({
    root,
    home,
    primaryPort,
    replicaPort,
    apiPorts: [api1, api2],
    webPorts: [web1, web2],
    lb: { port: lbPort, adminPort: lbAdminPort, listenHost: '127.0.0.1', workers: flag('lb-workers', 2) },
    build: false,
    say: (l) => console.log(`  ${l}`),
  });

  // nginx: the same page as a static file (ETag on, access log on, 2 workers: one per core), with the
  // same response headers (security headers, Cache-Control, a request id), so both send the same bytes.
  const ngx = join(home, 'nginx');
  mkdirSync(join(ngx, 'html'), { recursive: true });
  // nginx's workers run as an unprivileged user: they must be able to read the page.
  for (const dir of [home, ngx, join(ngx, 'html')]) chmodSync(dir, 0o755);
  const page = await fetch(`http://127.0.0.1:${lbPort}/`);
  writeFileSync(join(ngx, 'html', 'index.html'), await page.text());
  const ownHeaders = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'etag', 'last-modified', 'transfer-encoding', 'x-request-id']);
  const quoted = (v: string) => `"${v.replace(/["\\$]/g, (c) => `\\${c}`)}"`;
  const addHeaders = [...page.headers].filter(([name]) => !ownHeaders.has(name)).map(([name, value]) => `add_header ${name} ${quoted(value)};`);
  writeFileSync(
    join(ngx, 'nginx.conf'),
    `worker_processes 2; pid ${ngx}/nginx.pid; error_log ${ngx}/error.log; daemon off;
events { worker_connections 1024; }
http { access_log ${ngx}/access.log; default_type text/html; charset utf-8; server_tokens off;
  server { listen 127.0.0.1:${nginxPort}; root ${ngx}/html;
    location / { etag on; ${addHeaders.join(' ')} add_header x-request-id $request_id; } } }`,
  );
  const nginx = spawn('nginx', ['-c', join(ngx, 'nginx.conf'), '-p', ngx], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const check = await fetch(`http://127.0.0.1:${nginxPort}/`);
    if (check.status !== 200) throw new Error(`nginx answers ${check.status}; see ${ngx}/error.log`);
    const [ngxBytes, lbBytes] = await Promise.all([nginxPort, lbPort].map((p) => responseBytes(`http://127.0.0.1:${p}/`)));
    console.log(`\nresponse size (status line, headers, body): nginx ${ngxBytes.head} + ${ngxBytes.body} bytes, full stack ${lbBytes.head} + ${lbBytes.body} bytes`);
    console.log(`\nGET / : ${connections} connections, keep-alive, ${rounds} rounds of ${seconds} s\n`);
    const [static_, full] = compare(
      [
        { name: 'nginx (static file)', url: `http://127.0.0.1:${nginxPort}/` },
        { name: 'lb → web → api → replica', url: `http://127.0.0.1:${lbPort}/` },
      ],
      rounds,
      { connections, seconds },
    );
    console.log(`\nfull stack / nginx static: ${((full.requestsPerSecond / static_.requestsPerSecond) * 100).toFixed(0)}% (target ≥ 40%)`);

    // Where the time goes: CPU per request of each tier, and each hop alone; same load, one round each.
    const once = { connections, seconds: Math.min(seconds, 5) };
    const web = stack.webs[0];
    console.log('\nCPU per request (one round each):');
    const lines = [
      ...cpuPerRequest(`http://127.0.0.1:${nginxPort}/`, [['nginx (static file)', processTree(nginx.pid)]], once),
      ...cpuPerRequest(
        `http://127.0.0.1:${lbPort}/`,
        [
          ['full stack: lb', processTree(stack.lb?.pid)],
          [`full stack: web ×${stack.webs.length}`, stack.webs.flatMap((w) => processTree(w.pid))],
          [`full stack: api ×${stack.apis.length}`, stack.apis.flatMap((a) => processTree(a.pid))],
        ],
        once,
      ),
      ...cpuPerRequest(`http://127.0.0.1:${web1}/`, [['web alone (one instance)', processTree(web.pid)]], once),
    ];
    for (const line of lines) console.log(line);

    console.log('\nhops alone (one round each):');
    for (const [name, url] of [
      ['web alone (one instance)', `http://127.0.0.1:${web1}/`],
      ['api alone (one instance)', `http://127.0.0.1:${api1}/api/v1/resume`],
    ]) {
      const r = runWrk(url, { connections, seconds });
      console.log(`  ${name.padEnd(32)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s  p99 ${r.p99Ms.toFixed(2)} ms`);
    }
  } finally {
    nginx.kill('SIGTERM');
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
