import { MariaServer, nextFreePort } from '@vita/mariadb';
import { parseEnvFile } from '@vita/runtime';
import { caPin, hostLayout, parseJoinToken, parseSiteConfig, tlsFiles } from '@vita/sites';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from './site-cli';

const ROOT = resolve(__dirname, '..', '..');

describe('npm run site', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-site-cli-'));
  const home = join(dir, 'home');
  const units = join(dir, 'units');
  let warehouseFile: string;
  let port: number;
  let primary: MariaServer | undefined;

  beforeAll(async () => {
    port = await nextFreePort();
    warehouseFile = join(dir, 'warehouse.yaml');
    writeFileSync(warehouseFile, `role: warehouse\nname: dw\naddress: 127.0.0.1\nhome: ${home}\nports:\n  mariadb: ${port}\n  replAdmin: 3299\n`);
  });
  afterAll(async () => {
    await primary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const mode = (file: string) => statSync(file).mode & 0o777;

  it('refuses a bad site file with exit 2, naming the file, the line and the key', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'role: node\nname: node-a\naddress: 10.1.0.2\nwarehouse: 10.1.0.1\nports:\n  lb: 99999\n');
    const r = await run(['check', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:6: ports.lb must be a port number (1-65535)`);
    expect(r.out).toBe('');
    const missing = await run(['check'], { VITA_SITE: join(dir, 'nowhere.yaml') });
    expect(missing).toMatchObject({ code: 2, err: `site check: cannot read the site file ${join(dir, 'nowhere.yaml')}: ENOENT` });
  });

  it('check prints the role and every service with where it listens', async () => {
    const node = join(dir, 'node.yaml');
    writeFileSync(node, 'role: node\nname: node-a\naddress: 10.1.0.2\nwarehouse: 10.1.0.1\nports:\n  lb: 8080\n  api: [3100, 3102]\n');
    const r = await run(['check', '--config', node, '--root', ROOT]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${node}: content node node-a at 10.1.0.2, home /var/lib/vita`);
    expect(r.out).toContain('vita-node.target runs:');
    expect(r.out).toMatch(/vita-mariadb +10\.1\.0\.2:3306 \(TLS required\)/);
    expect(r.out).toMatch(/vita-api-3102 +http:\/\/127\.0\.0\.1:3102/);
    expect(r.out).toMatch(/vita-web-3001 +http:\/\/127\.0\.0\.1:3001/);
    expect(r.out).toMatch(/vita-lb +0\.0\.0\.0:8080, admin 127\.0\.0\.1:8404, peers \(TLS\) 0\.0\.0\.0:8443/);
    const w = await run(['check', '--config', warehouseFile, '--root', ROOT]);
    expect(w.out).toMatch(/vita-repl-admin +https:\/\/0\.0\.0\.0:3299/);
    expect(w.out).toContain('MariaDB server id 1');
  });

  it('init makes the CA, certificate, secrets and units once; run again it keeps them', async () => {
    const first = await run(['init', '--config', warehouseFile, '--unit-dir', units, '--root', ROOT]);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toContain('site CA made');
    expect(first.out).toContain('systemctl daemon-reload && systemctl start vita-mariadb');
    const ca = readFileSync(join(home, 'ca', 'ca.crt'), 'utf8');
    const secrets = readFileSync(join(home, 'secrets.env'), 'utf8');
    const second = await run(['init', '--config', warehouseFile, '--unit-dir', units, '--root', ROOT]);
    expect(second.code).toBe(0);
    expect(second.out).toContain('site CA kept');
    expect(second.out).toContain('certificate for 127.0.0.1 kept');
    expect(readFileSync(join(home, 'ca', 'ca.crt'), 'utf8')).toBe(ca);
    expect(readFileSync(join(home, 'secrets.env'), 'utf8')).toBe(secrets);
    expect(readFileSync(join(home, 'tls', 'ca.crt'), 'utf8')).toBe(ca);

    const values = parseEnvFile(secrets, 'secrets.env');
    expect(values['REPL_JOIN_SECRET']).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(Object.keys(values)).toEqual(expect.arrayContaining(['VITA_ADMIN_TOKEN', 'DB_REPL_PASSWORD', 'REPL_ADMIN_PASSWORD']));
    for (const secret of [join(home, 'secrets.env'), join(home, 'ca', 'ca.key'), join(home, 'tls', 'dw.key'), join(home, 'env', 'vita-repl-admin.env')]) expect(mode(secret)).toBe(0o600);
    expect(mode(join(home, 'env'))).toBe(0o700);
    expect(mode(join(home, 'run'))).toBe(0o700);

    const files = readdirSync(units).sort();
    expect(files).toEqual(['vita-mariadb.service', 'vita-repl-admin.service', 'vita-warehouse.target']);
    const paths = files.map((f) => join(units, f));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...paths], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
    expect(`${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes(dir) || /vita-/.test(l))).toEqual([]);
    expect(verify.status).toBe(0);
    const all = paths.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const value of Object.values(values)) expect(all).not.toContain(value);
    const replAdmin = readFileSync(join(units, 'vita-repl-admin.service'), 'utf8');
    for (const setting of [`REPL_HTTPS_CERT=${home}/tls/dw.crt`, `REPL_HTTPS_KEY=${home}/tls/dw.key`, `REPL_TLS_CA=${home}/tls/ca.crt`, 'REPL_REPLICA_TLS_CA=', `REPL_CA_DIR=${home}/ca`, `REPL_SITE_SECRETS_FILE=${home}/secrets.env`])
      expect(replAdmin).toContain(setting);
    expect(readFileSync(join(home, 'env', 'vita-repl-admin.env'), 'utf8')).toContain(`REPL_JOIN_SECRET=${values['REPL_JOIN_SECRET']}`);
    const mariadb = readFileSync(join(units, 'vita-mariadb.service'), 'utf8');
    for (const arg of [`"--bind-address=127.0.0.1"`, `"--port=${port}"`, `"--datadir=${home}/data/primary"`, '"--require-secure-transport=ON"', `"--ssl-cert=${home}/tls/dw.crt"`, '"--read-only=0"', '"--server-id=1"'])
      expect(mariadb).toContain(arg);
    expect(readFileSync(join(home, 'topology', 'servers.yaml'), 'utf8')).toContain(`address: 127.0.0.1:${port}`);
  });

  it('init with the primary running creates the accounts (replication over TLS only) and the schema through the admin socket', async () => {
    const site = parseSiteConfig(readFileSync(warehouseFile, 'utf8'));
    const layout = hostLayout(site);
    const tls = tlsFiles(home, 'dw');
    // The server systemd would run: the same data directory, socket, address and certificate.
    primary = await MariaServer.create({ name: 'primary', dataDir: layout.dataDir, runDir: layout.runDir, port, serverId: 1, role: 'primary', durable: false, keepProcessAlive: false, tls: { ...tls, requireSecureTransport: true } });
    await primary.start();
    expect(primary.socketPath).toBe(layout.socketPath);
    const r = await run(['init', '--config', warehouseFile, '--unit-dir', units, '--root', ROOT]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain(`database accounts and schema on the primary (through ${layout.socketPath}`);
    expect(r.out).toContain('systemctl enable --now vita-warehouse.target');
    const users = await primary.query<{ User: string; ssl_type: string }[]>("SELECT User, ssl_type FROM mysql.user WHERE User IN ('vita_reader','vita_writer','vita_migrator','vita_repl','repl_monitor','repl_admin') ORDER BY User");
    expect(users.map((u) => u.User)).toEqual(['repl_admin', 'repl_monitor', 'vita_migrator', 'vita_reader', 'vita_repl', 'vita_writer']);
    expect(users.find((u) => u.User === 'vita_repl')?.ssl_type).toBe('ANY');
    const state = await primary.query<{ version: number }[]>('SELECT version FROM vita.resume_state');
    expect(state).toHaveLength(1);
    expect((await run(['init', '--config', warehouseFile, '--unit-dir', units, '--root', ROOT])).code).toBe(0);
  });

  it('token prints the join token on stdout only: it pins the site CA and carries the join secret', async () => {
    const r = await run(['token', '--config', warehouseFile]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/the join token is a secret/);
    const token = parseJoinToken(r.out);
    expect(r.out.split('\n')).toHaveLength(1);
    expect(token.pin).toBe(caPin(readFileSync(join(home, 'ca', 'ca.crt'), 'utf8')));
    expect(token.secret).toBe(parseEnvFile(readFileSync(join(home, 'secrets.env'), 'utf8'), 'secrets.env')['REPL_JOIN_SECRET']);
    expect(r.err).not.toContain(token.secret);
  });

  it('join refuses a token on its command line and a malformed token, echoing neither', async () => {
    const node = join(dir, 'node-join.yaml');
    writeFileSync(node, `role: node\nname: node-a\naddress: 10.1.0.2\nwarehouse: 10.1.0.1\nhome: ${join(dir, 'node-home')}\n`);
    const secretish = `vita-join.${'a'.repeat(64)}.${'S3cretS3cretS3cretS3cretS3cretS3cret'}`;
    for (const argv of [
      ['join', '--config', node, '--token', secretish],
      ['join', '--config', node, `--token=${secretish}`],
      ['join', '--config', node, '--token'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--token is refused');
      expect(r.err).toContain('VITA_JOIN_TOKEN');
      expect(`${r.out}${r.err}`).not.toContain('S3cret');
    }
    const positional = await run(['join', '--config', node, secretish]);
    expect(positional.code).toBe(2);
    expect(positional.err).not.toContain('S3cret');
    const malformed = await run(['join', '--config', node], { VITA_JOIN_TOKEN: 'vita-join.not-a-pin.S3cretS3cretS3cretS3cretS3cretS3cret' });
    expect(malformed.code).toBe(2);
    expect(malformed.err).toContain('the join token must look like vita-join.<64 hex digits>.<secret>');
    expect(malformed.err).not.toContain('S3cret');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'S3cretS3cretS3cretS3cretS3cretS3cret\n', { mode: 0o600 });
    const fromFile = await run(['join', '--config', node, '--token-file', tokenFile]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.err).not.toContain('S3cret');
    expect(await run(['join', '--config', node])).toMatchObject({ code: 2, err: expect.stringContaining('no join token: set VITA_JOIN_TOKEN or give --token-file FILE') });
    expect(await run(['join', '--config', warehouseFile], { VITA_JOIN_TOKEN: secretish })).toMatchObject({ code: 2, err: expect.stringContaining('join runs on a content node') });
    expect(await run(['token', '--config', node])).toMatchObject({ code: 2, err: expect.stringContaining('token runs on the data warehouse') });
  });

  it('units on a content node that has not joined says to join first', async () => {
    const node = join(dir, 'node-units.yaml');
    writeFileSync(node, `role: node\nname: node-b\naddress: 10.1.0.3\nwarehouse: 10.1.0.1\nhome: ${join(dir, 'node-b-home')}\n`);
    const r = await run(['units', '--config', node, '--unit-dir', join(dir, 'node-units'), '--root', ROOT]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('run `npm run site -- join` first');
  });
});
