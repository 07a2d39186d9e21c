import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roleServices } from './role-services';
import { parseSiteConfig } from './site-config';
import { renderService, writeUnits } from './systemd';

const secrets = Object.fromEntries(
  ['VITA_ADMIN_TOKEN', 'LB_ADMIN_TOKEN', 'REPL_ADMIN_TOKEN', 'DB_READ_PASSWORD', 'DB_WRITE_PASSWORD', 'DB_MIGRATE_PASSWORD', 'DB_REPL_PASSWORD', 'REPL_MONITOR_PASSWORD', 'REPL_ADMIN_PASSWORD'].map(
    (n) => [n, `secret-of-${n.toLowerCase()}`],
  ),
);
const mariadbd = ['/usr/sbin/mariadbd', '--no-defaults', '--datadir=/var/lib/vita/data'];
const install = { root: '/opt/vita', node: process.execPath, mariadbd };
const node = parseSiteConfig('role: node\nname: node-a\naddress: 10.77.0.11\nwarehouse: 10.77.0.2\nhome: /srv/vita home\n');
const warehouse = parseSiteConfig('role: warehouse\nname: dw\naddress: 10.77.0.2\n');

describe('systemd units of a role', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vita-units-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['content node', node],
    ['warehouse', warehouse],
  ])('writes units for a %s that systemd-analyze verify accepts, secrets only in files of mode 600', (_, site) => {
    const { target, description, services } = roleServices(site, install, secrets);
    const written = writeUnits(join(dir, 'units'), join(dir, 'env'), target, description, services);
    expect(written.units.map((f) => f.split('/').pop())).toContain(`${target}.target`);
    // Without PID 1 being systemd, verify still parses every unit and checks that each program exists.
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...written.units], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
    const complaints = `${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes(dir) || /vita-/.test(l));
    expect(complaints).toEqual([]);
    expect(verify.status).toBe(0);
    for (const file of written.units) {
      const text = readFileSync(file, 'utf8');
      for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    }
    expect(statSync(join(dir, 'env')).mode & 0o777).toBe(0o700);
    for (const file of written.envFiles) expect(statSync(file).mode & 0o777).toBe(0o600);
    const allSecrets = written.envFiles.map((f) => readFileSync(f, 'utf8')).join('');
    expect(allSecrets).not.toContain('DB_MIGRATE_PASSWORD'); // no running service needs the migrator's password
  });

  it('gives each content-node service what it needs: the api reads locally first and writes to the warehouse', () => {
    const { services } = roleServices(node, install, secrets);
    expect(services.map((s) => s.name)).toEqual(['vita-mariadb', 'vita-api-3100', 'vita-api-3101', 'vita-web-3000', 'vita-web-3001', 'vita-lb']);
    const api = services[1];
    expect(api.env['DB_READ_HOSTS']).toBe('replica@10.77.0.11:3306,primary@10.77.0.2:3306');
    expect(api.env['DB_WRITE_HOST']).toBe('10.77.0.2:3306');
    // A node that joined a topology with other nodes reads their replicas after its own, before the primary.
    const withPeers = roleServices(node, install, secrets, [{ address: '10.77.0.12', dbPort: 3306 }, { address: 'node-c.example', dbPort: 3307 }]).services[1];
    expect(withPeers.env['DB_READ_HOSTS']).toBe('replica@10.77.0.11:3306,replica@10.77.0.12:3306,replica@node-c.example:3307,primary@10.77.0.2:3306');
    expect(Object.keys(api.secrets).sort()).toEqual(['DB_READ_PASSWORD', 'DB_WRITE_PASSWORD', 'VITA_ADMIN_TOKEN']);
    expect(api.after).toEqual(['vita-mariadb']);
    const lb = services[5];
    expect(lb.env['LB_BACKENDS']).toBe('web1=http://127.0.0.1:3000,web2=http://127.0.0.1:3001');
    expect(lb.env['LB_NODE_NAME']).toBe('node-a');
    expect(Object.keys(services[3].secrets)).toEqual([]);
  });

  it('quotes what systemd would otherwise expand: a home with spaces, % and $ reach the program as written', () => {
    const text = renderService(
      { name: 'vita-x', description: 'x', command: ['/usr/bin/env', 'a b', '50%', '$HOME', 'q"uote'], env: { P: '/srv/vita home/100%' }, secrets: {}, after: [] },
      'vita-node',
      '/env',
    );
    expect(text).toContain('ExecStart="/usr/bin/env" "a b" "50%%" "$$HOME" "q\\"uote"');
    expect(text).toContain('Environment="P=/srv/vita home/100%%"');
    const withSecrets = renderService({ name: 'vita-y', description: 'y', command: ['/usr/bin/env'], env: {}, secrets: { S: 'x' }, after: [] }, 'vita-node', '/srv/50%/env');
    expect(withSecrets).toContain('EnvironmentFile=/srv/50%%/env/vita-y.env');
    expect(existsSync('/usr/bin/env')).toBe(true);
  });

  it('refuses what a unit cannot carry, naming the service and the setting', () => {
    const base = { name: 'vita-x', description: 'x', command: ['/bin/true'], env: {}, secrets: {}, after: [] };
    expect(() => renderService({ ...base, env: { A: 'one\ntwo' } }, 't', '/e')).toThrow('vita-x: A holds a line break or NUL, which a unit cannot carry');
    expect(() => renderService({ ...base, command: ['true'] }, 't', '/e')).toThrow('vita-x: the program must be an absolute path');
    expect(() => renderService({ ...base, name: 'vita x' }, 't', '/e')).toThrow(/unit name "vita x"/);
    expect(() => roleServices(node, install, { ...secrets, LB_ADMIN_TOKEN: '' })).toThrow('vita-lb needs the secret LB_ADMIN_TOKEN, which the secrets file does not have');
  });
});
