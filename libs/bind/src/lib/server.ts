import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  absoluteName,
  BindKey,
  BindAnswer,
  BindRecord,
  BindRecordType,
  canonicalAddress,
  checkName,
  keyFileText,
  namedConf,
  nsupdateScript,
  parseDigOutput,
  zoneFileText,
} from './config';
import { BindPrograms, findBindPrograms } from './install';
import { BIND_DIR_PREFIX, freeDnsPort, OWNER_FILE, pidAlive, run, sendSignal, sleep, sweepStaleBind } from './process';

export interface BindServerOptions {
  /** The primary zone it serves, e.g. `vita.test`. */
  zone: string;
  /** The address it listens on (default 127.0.0.1; `::1` or another IPv6 works too). */
  address?: string;
  /** Default: a port free for TCP and UDP right now. */
  port?: number;
  /** The TSIG key's name (default `vita-update`). */
  keyName?: string;
  /** The key's secret (base64), to start again with the key an earlier server had; default: a fresh one. */
  secret?: string;
  /** Records served from the start (besides SOA, NS and `ns.<zone>`). */
  records?: BindRecord[];
  /** A command prefix named (and dig, nsupdate) run under, e.g. `['ip', 'netns', 'exec', 'vita-x']`; it must exec in place. */
  wrap?: string[];
  /** The folder its private working dir (`vita-bind-*`) is created in (default os.tmpdir()). */
  dir?: string;
  /** Bound on start (default 15 s). */
  startTimeoutMs?: number;
  programs?: BindPrograms;
}

const OUTPUT_LIMIT = 256 * 1024;
const QUERY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

/** One `named -g` serving one primary zone, updatable (RFC 2136) with one generated hmac-sha256 TSIG key. */
export class BindServer {
  readonly address: string;
  readonly zone: string;
  /** The key file (BIND syntax, mode 0600). */
  readonly keyFile: string;
  readonly key: BindKey;
  /** Its private working dir (named.conf, the zone and its journal, the key); removed by stop(). */
  readonly dir: string;
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  private constructor(
    private readonly options: BindServerOptions,
    private readonly programs: BindPrograms,
    public port: number,
    dir: string,
  ) {
    this.address = options.address ?? '127.0.0.1';
    this.zone = checkName(options.zone, 'zone');
    this.dir = dir;
    this.keyFile = join(dir, 'tsig.key');
    this.key = { name: checkName(options.keyName ?? 'vita-update', 'keyName'), algorithm: 'hmac-sha256', secret: options.secret ?? randomBytes(32).toString('base64') };
    if (!/^[A-Za-z0-9+/]{16,}={0,2}$/.test(this.key.secret)) throw new Error('bind: options.secret must be base64 (at least 16 characters)');
  }

  /** Removes stale harness dirs (dead owner) in its parent, writes its config into a fresh private dir, starts named and waits (bounded) until it answers the zone's SOA. */
  static async start(options: BindServerOptions): Promise<BindServer> {
    const programs = options.programs ?? findBindPrograms();
    const parent = options.dir ?? tmpdir();
    mkdirSync(parent, { recursive: true });
    sweepStaleBind(parent); // what a killed test run left behind
    const dir = mkdtempSync(join(parent, BIND_DIR_PREFIX));
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    const address = options.address ?? '127.0.0.1';
    let server: BindServer | undefined;
    try {
      // Inside a network namespace the host's free ports say nothing, but any port is as good as another there.
      server = new BindServer(options, programs, options.port ?? (await freeDnsPort(options.wrap ? '127.0.0.1' : address)), dir);
      await server.launch();
      return server;
    } catch (e) {
      if (server) await server.stop();
      else rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** named's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** What named printed (stdout and stderr, the last 256 KiB). */
  output(): string {
    return this.log;
  }

  /**
   * Waits (bounded) until named's output has a line matching `pattern` and returns it: named may log
   * about a request just after it answered it.
   */
  async waitForOutput(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() >= deadline) throw new Error(`bind ${this.where()}: no output line matching ${pattern} within ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  private writeConfig(): string {
    const conf = join(this.dir, 'named.conf');
    const zoneFile = join(this.dir, `${this.zone}.zone`);
    writeFileSync(this.keyFile, keyFileText(this.key), { mode: 0o600 });
    writeFileSync(zoneFile, zoneFileText(this.zone, this.address, this.options.records));
    writeFileSync(conf, namedConf({ dir: this.dir, address: this.address, port: this.port, zone: this.zone, zoneFile, keyFile: this.keyFile, keyName: this.key.name }));
    return conf;
  }

  private async launch(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    for (let attempt = 1; ; attempt++) {
      const conf = this.writeConfig();
      const command = [...(this.options.wrap ?? []), this.programs.named, '-g', '-n', '1', '-c', conf, '-u', 'root'];
      const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      const append = (d: Buffer) => {
        this.log = (this.log + d.toString()).slice(-OUTPUT_LIMIT);
      };
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      this.exited = new Promise((done) => {
        const gone = () => {
          if (this.child === child) this.child = undefined;
          done();
        };
        child.once('exit', gone);
        child.once('error', (e) => {
          append(Buffer.from(`spawn ${command[0]}: ${e.message}\n`));
          gone();
        });
      });
      const outcome = await this.waitReady(child, timeoutMs);
      if (outcome === 'ready') return;
      await this.kill();
      if (outcome === 'port-in-use' && this.options.port === undefined && attempt < 3) {
        this.port = await freeDnsPort(this.options.wrap ? '127.0.0.1' : this.address);
        this.log = '';
        continue;
      }
      const tail = this.log.trimEnd().split('\n').slice(-15).join('\n');
      const why = outcome === 'exited' ? 'named exited during startup' : outcome === 'port-in-use' ? 'the port is in use' : `no SOA answer within ${timeoutMs} ms`;
      throw new Error(`bind ${this.where()} (zone ${this.zone}) failed to start: ${why}; named's last lines:\n${tail}`);
    }
  }

  private async waitReady(child: ChildProcess, timeoutMs: number): Promise<'ready' | 'exited' | 'port-in-use' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child !== child) return 'exited';
      if (/address in use/i.test(this.log)) return 'port-in-use';
      if (/\brunning\b/.test(this.log)) {
        try {
          if ((await this.answers(this.zone, 'SOA', 1_000)).length > 0) return 'ready';
        } catch {
          // not answering yet
        }
      }
      await sleep(50);
    }
    return 'timeout';
  }

  /** `address#port` (BIND's notation), for messages. */
  private where(): string {
    return `${this.address}#${this.port}`;
  }

  /** The server for node:dns / dig. */
  private serverSpec(): string {
    return isIPv6(this.address) ? `[${this.address}]:${this.port}` : `${this.address}:${this.port}`;
  }

  /** The answers named gives for `name` and `type` ([] for NXDOMAIN and NODATA); other rcodes and no answer in time throw. */
  private async answers(name: string, type: BindRecordType | 'SOA', timeoutMs = QUERY_TIMEOUT_MS): Promise<BindAnswer[]> {
    const fqdn = absoluteName(name, this.zone);
    if (this.options.wrap) return this.digAnswers(fqdn, type, timeoutMs);
    const resolver = new Resolver({ timeout: Math.min(timeoutMs, 1_000), tries: Math.max(1, Math.ceil(timeoutMs / 1_000)) });
    resolver.setServers([this.serverSpec()]);
    try {
      if (type === 'SOA') {
        const soa = await resolver.resolveSoa(fqdn);
        return [{ value: `${soa.nsname}. ${soa.hostmaster}. ${soa.serial}`, ttl: soa.minttl }];
      }
      const got = type === 'A' ? await resolver.resolve4(fqdn, { ttl: true }) : await resolver.resolve6(fqdn, { ttl: true });
      return got.map((r) => ({ value: r.address, ttl: r.ttl }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      throw new Error(`bind ${this.where()}: lookup of ${fqdn} ${type} failed: ${code ?? (e as Error).message}`);
    } finally {
      resolver.cancel();
    }
  }

  private async digAnswers(fqdn: string, type: string, timeoutMs: number): Promise<BindAnswer[]> {
    const tries = Math.max(1, Math.floor(timeoutMs / 1_000));
    const args = ['+norecurse', '+noall', '+answer', '+comments', '+time=1', `+tries=${tries}`, '-p', String(this.port), `@${this.address}`, fqdn, type];
    const out = await run([...(this.options.wrap ?? []), this.programs.dig, ...args], '', timeoutMs + 2_000);
    const parsed = parseDigOutput(out.stdout, fqdn, type);
    if (out.code !== 0 || (parsed.status !== 'NOERROR' && parsed.status !== 'NXDOMAIN')) {
      throw new Error(`bind ${this.where()}: dig ${fqdn} ${type} failed: ${parsed.status ?? `exit ${out.code}`}`);
    }
    return parsed.answers;
  }

  /** The addresses named serves for `name` (relative to the zone or fully qualified) and `type`, canonical and sorted. */
  async lookup(name: string, type: BindRecordType): Promise<string[]> {
    return (await this.answers(name, type)).map((a) => canonicalAddress(type, a.value)).sort();
  }

  /** The TTL named serves for that set (null when it is empty). */
  async ttl(name: string, type: BindRecordType): Promise<number | null> {
    const got = await this.answers(name, type);
    return got.length ? Math.min(...got.map((a) => a.ttl)) : null;
  }

  /**
   * Replaces the `type` set of `name` with `values` ([] deletes it) the way an operator would by hand:
   * `nsupdate -k <key file>` over TCP, the script on stdin. Bounded (15 s).
   */
  async handEdit(name: string, type: BindRecordType, values: string[], ttl = 300): Promise<void> {
    const script = nsupdateScript({ address: this.address, port: this.port, zone: this.zone, name, type, values, ttl });
    const out = await run([...(this.options.wrap ?? []), this.programs.nsupdate, '-v', '-t', '5', '-k', this.keyFile], script, 15_000);
    if (out.code !== 0) {
      const why = `${out.stderr} ${out.stdout}`.replace(/\s+/g, ' ').trim();
      throw new Error(`bind ${this.where()}: nsupdate of ${absoluteName(name, this.zone)} ${type} failed (exit ${out.code}): ${why}`);
    }
  }

  private async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([this.exited.then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async kill(): Promise<void> {
    const pid = this.pid;
    if (!this.running) return;
    sendSignal(pid, 'SIGKILL');
    if (!(await this.waitExit(STOP_TIMEOUT_MS)) && pid !== undefined && pidAlive(pid)) {
      throw new Error(`bind ${this.where()}: named (pid ${pid}) still alive ${STOP_TIMEOUT_MS} ms after SIGKILL`);
    }
  }

  /** SIGTERM, SIGKILL if it has not exited within 5 s; then removes its dir. Safe to call twice. */
  async stop(): Promise<void> {
    try {
      if (this.running) {
        sendSignal(this.pid, 'SIGTERM');
        if (!(await this.waitExit(STOP_TIMEOUT_MS))) await this.kill();
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
