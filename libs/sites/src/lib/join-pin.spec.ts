import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caPaths, initCa, issueHostCert } from './ca';
import { JoinError, joinSite, type NodeHost } from './join';
import { caPin } from './join-token';
import { NODE_PORTS, type NodeSite } from './site-config';

/**
 * The join token pins the site CA, and /api/v1/sites/ca is fetched without verification: whatever
 * answers there must not get the node to trust anything but the pinned CA, nor receive the join secret.
 */
describe('joinSite against a warehouse address that is not the warehouse', () => {
  let dir: string;
  let server: Server;
  const seen: { path: string; authorization?: string }[] = [];

  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
    seen.length = 0;
  });

  it('refuses a CA answer that is the pinned CA followed by another CA, before sending the join secret', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vita-pin-'));
    // The real site CA (only its certificate is known to the impostor) and the impostor's own CA.
    await initCa({ dir: join(dir, 'site') });
    await initCa({ dir: join(dir, 'evil'), name: 'Evil CA' });
    const evilServer = await issueHostCert({ dir: join(dir, 'evil'), name: 'warehouse', ips: ['127.0.0.1'] });
    const realCa = readFileSync(caPaths(join(dir, 'site')).crt, 'utf8');
    const evilCa = readFileSync(caPaths(join(dir, 'evil')).crt, 'utf8');
    const served = `${realCa}${evilCa}`;

    server = createServer({ key: readFileSync(evilServer.key), cert: readFileSync(evilServer.crt) }, (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.url === '/api/v1/sites/ca') return void res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(served);
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'impostor' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;

    const site: NodeSite = {
      role: 'node',
      name: 'node-x',
      address: '127.0.0.2',
      home: join(dir, 'home'),
      warehouse: { address: '127.0.0.1', mariadb: 3306, replAdmin: port },
      ports: NODE_PORTS,
    };
    const untouched = () => {
      throw new Error('the join went on past trusting the warehouse');
    };
    const host: NodeHost = {
      apiUrl: 'http://127.0.0.1:1',
      startReplica: untouched,
      local: untouched,
      replicaStatus: untouched,
      provisionAccounts: untouched,
      startServices: untouched,
      stopServices: untouched,
      pageVersion: untouched,
      primaryVersion: untouched,
    };
    const secret = 'a'.repeat(43);
    await expect(joinSite(site, { pin: caPin(realCa), secret }, host, { say: () => undefined })).rejects.toBeInstanceOf(JoinError);
    // The impostor never sees the join secret, and the node does not keep the impostor's CA as trusted.
    expect(seen.filter((s) => s.authorization !== undefined)).toEqual([]);
    let trusted = '';
    try {
      trusted = readFileSync(join(dir, 'home', 'tls', 'ca.crt'), 'utf8');
    } catch {
      trusted = '';
    }
    expect(trusted).not.toContain(evilCa.trim());
  });
});
