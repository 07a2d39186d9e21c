import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect } from 'node:tls';
import { CLIENT_GROUPS, shares, type ClientRun, type HandshakeClientOptions } from './handshakes';

/*
 * The client of runHandshakes(): `node -r tools/register.js handshake-client.ts '<options JSON>'`
 * prints a JSON array of ClientRun, one per process. Each connection is new, offers no session
 * (nothing is kept from one to the next), verifies the certificate, sends one GET with
 * `Connection: close` and counts once the server has closed after a 200.
 */

/** One process's share of the load: `o.connections` in flight, new ones started until `o.seconds` have passed. */
export function runClient(o: HandshakeClientOptions): Promise<ClientRun> {
  const ca = readFileSync(o.ca);
  const request = `GET ${o.path} HTTP/1.1\r\nHost: ${o.servername}\r\nConnection: close\r\n\r\n`;
  const run: ClientRun = { done: 0, resumed: 0, failed: 0, elapsedMs: 0, latenciesMs: [] };
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  return new Promise((resolve) => {
    let live = o.connections;
    const next = (): void => {
      if (performance.now() >= deadline) {
        if (--live === 0) resolve({ ...run, elapsedMs: performance.now() - started });
        return;
      }
      const t0 = performance.now();
      let status = '';
      let settled = false;
      const socket = connect({ host: o.host, port: o.port, servername: o.servername, ca, ALPNProtocols: ['http/1.1'], ecdhCurve: CLIENT_GROUPS });
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        if (ok) {
          run.done++;
          run.latenciesMs.push(performance.now() - t0);
        } else run.failed++;
        socket.destroy();
        next();
      };
      socket.setTimeout(5000, () => finish(false));
      socket.once('secureConnect', () => {
        if (socket.isSessionReused()) run.resumed++;
        socket.write(request);
      });
      socket.on('data', (d: Buffer) => {
        if (status.length < 12) status += d.toString('latin1', 0, 12 - status.length);
      });
      const answered = () => finish(status === 'HTTP/1.1 200');
      socket.once('end', answered);
      socket.once('close', answered);
      socket.once('error', () => finish(false));
    };
    for (let i = 0; i < o.connections; i++) next();
  });
}

/** Runs `processes` copies of this script (one process each), collecting their tallies. */
async function fanOut(o: HandshakeClientOptions): Promise<ClientRun[]> {
  const children = shares(o.connections, o.processes).map(
    (connections) =>
      new Promise<ClientRun[]>((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, __filename, JSON.stringify({ ...o, connections, processes: 1 })], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ClientRun[]) : reject(new Error(`handshake client exited with ${code}`))));
      }),
  );
  return (await Promise.all(children)).flat();
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as HandshakeClientOptions;
  const runs = o.processes > 1 ? await fanOut(o) : [await runClient(o)];
  process.stdout.write(JSON.stringify(runs));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
