import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, Node, parseDocument, YAMLMap } from 'yaml';

/** The two roles a host can run. */
export type SiteRole = 'warehouse' | 'node';

export interface WarehousePorts {
  mariadb: number;
  replAdmin: number;
}

export interface NodePorts {
  mariadb: number;
  api: number[];
  web: number[];
  lb: number;
  lbAdmin: number;
  /** lb's TLS listener that other nodes' lbs use as a backup. */
  lbPeer: number;
}

interface Common {
  /** This host's name in the topology (a DNS label). */
  name: string;
  /** The address other hosts reach this one at (IP address or DNS name; it is in the host's certificate). */
  address: string;
  /** Data, logs, secrets and certificates. */
  home: string;
}

export interface WarehouseSite extends Common {
  role: 'warehouse';
  ports: WarehousePorts;
}

export interface NodeSite extends Common {
  role: 'node';
  warehouse: { address: string } & WarehousePorts;
  ports: NodePorts;
}

export type SiteConfig = WarehouseSite | NodeSite;

export const WAREHOUSE_PORTS: WarehousePorts = { mariadb: 3306, replAdmin: 3200 };
export const NODE_PORTS: NodePorts = { mariadb: 3306, api: [3100, 3101], web: [3000, 3001], lb: 80, lbAdmin: 8404, lbPeer: 8443 };
export const DEFAULT_HOME = '/var/lib/vita';

/** A site file that cannot be used; the message names the file, the line and the key. */
export class SiteConfigError extends Error {}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Reads one site file's text; `file` names it in errors. Every problem found is reported, one per line. */
export function parseSiteConfig(text: string, file = 'site.yaml'): SiteConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  };
  const fail = (node: Node | null | undefined, key: string, message: string) => problems.push(`${at(node)}: ${key} ${message}`);

  for (const e of doc.errors) problems.push(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  if (problems.length > 0) throw new SiteConfigError(problems.join('\n'));
  const root = doc.contents;
  if (!isMap(root)) throw new SiteConfigError(`${file}: must be a YAML mapping of keys (role, name, address, …)`);

  const entries = (map: YAMLMap, prefix: string, allowed: string[]): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!allowed.includes(key)) fail(pair.key as Node, `${prefix}${key}`, `is not a setting here (known: ${allowed.join(', ')})`);
      else out.set(key, (pair.value as Node | null) ?? null);
    }
    return out;
  };
  const text_ = (node: Node | null | undefined, key: string, check: (v: string) => string | undefined): string | undefined => {
    if (node === undefined) return undefined;
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
      fail(node, key, 'must be a single value');
      return undefined;
    }
    const value = String(node.value).trim();
    const why = check(value);
    if (why) {
      fail(node, key, why);
      return undefined;
    }
    return value;
  };
  const port = (node: Node | null | undefined, key: string): number | undefined => {
    if (node === undefined) return undefined;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
      fail(node, key, 'must be a port number (1-65535)');
      return undefined;
    }
    return value;
  };
  const portList = (node: Node | null | undefined, key: string): number[] | undefined => {
    if (node === undefined) return undefined;
    if (isScalar(node)) {
      const one = port(node, key);
      return one === undefined ? undefined : [one];
    }
    if (!isSeq(node) || node.items.length === 0 || node.items.length > 16) {
      fail(node, key, 'must be a port or a list of 1 to 16 ports (one instance each)');
      return undefined;
    }
    const ports = node.items.map((item, i) => port(item as Node, `${key}[${i}]`));
    return ports.every((p): p is number => p !== undefined) ? ports : undefined;
  };
  const address = (v: string) => (isIP(v) || HOSTNAME.test(v) ? undefined : 'must be an IP address or a DNS name');

  const top = entries(root, '', ['role', 'name', 'address', 'home', 'warehouse', 'ports']);
  const role = text_(top.get('role') ?? undefined, 'role', (v) => (v === 'warehouse' || v === 'node' ? undefined : 'must be warehouse or node'));
  if (!top.has('role')) problems.push(`${file}: role is missing (warehouse or node)`);
  const name = text_(top.get('name') ?? undefined, 'name', (v) => (LABEL.test(v) ? undefined : 'must be a DNS label: a-z, 0-9 and -, at most 63 characters'));
  if (!top.has('name')) problems.push(`${file}: name is missing (this host's name in the topology, e.g. node-a)`);
  const addr = text_(top.get('address') ?? undefined, 'address', address);
  if (!top.has('address')) problems.push(`${file}: address is missing (the address other hosts reach this one at)`);
  const home = text_(top.get('home') ?? undefined, 'home', (v) => (isAbsolute(v) ? undefined : 'must be an absolute path')) ?? DEFAULT_HOME;

  const portsNode = top.get('ports');
  const portsMap = portsNode === undefined ? undefined : isMap(portsNode) ? portsNode : (fail(portsNode, 'ports', 'must be a mapping (mariadb: 3306, …)'), undefined);

  if (role === 'warehouse') {
    if (top.has('warehouse')) fail(top.get('warehouse'), 'warehouse', 'is a content node setting (this host is the warehouse)');
    const given = portsMap ? entries(portsMap, 'ports.', Object.keys(WAREHOUSE_PORTS)) : new Map<string, Node | null>();
    const ports: WarehousePorts = {
      mariadb: port(given.get('mariadb') ?? undefined, 'ports.mariadb') ?? WAREHOUSE_PORTS.mariadb,
      replAdmin: port(given.get('replAdmin') ?? undefined, 'ports.replAdmin') ?? WAREHOUSE_PORTS.replAdmin,
    };
    distinct(problems, file, ports);
    if (problems.length > 0) throw new SiteConfigError(problems.join('\n'));
    return { role, name: name as string, address: addr as string, home, ports };
  }

  let warehouse: NodeSite['warehouse'] | undefined;
  const wh = top.get('warehouse');
  if (wh === undefined) {
    if (role === 'node') problems.push(`${file}: warehouse is missing (the data warehouse's address, or a mapping with address, mariadb, replAdmin)`);
  } else if (isMap(wh)) {
    const w = entries(wh, 'warehouse.', ['address', ...Object.keys(WAREHOUSE_PORTS)]);
    const a = text_(w.get('address') ?? undefined, 'warehouse.address', address);
    if (!w.has('address')) fail(wh, 'warehouse.address', 'is missing');
    warehouse = a === undefined ? undefined : {
      address: a,
      mariadb: port(w.get('mariadb') ?? undefined, 'warehouse.mariadb') ?? WAREHOUSE_PORTS.mariadb,
      replAdmin: port(w.get('replAdmin') ?? undefined, 'warehouse.replAdmin') ?? WAREHOUSE_PORTS.replAdmin,
    };
  } else {
    const a = text_(wh, 'warehouse', address);
    warehouse = a === undefined ? undefined : { address: a, ...WAREHOUSE_PORTS };
  }
  const given = portsMap ? entries(portsMap, 'ports.', Object.keys(NODE_PORTS)) : new Map<string, Node | null>();
  const ports: NodePorts = {
    mariadb: port(given.get('mariadb') ?? undefined, 'ports.mariadb') ?? NODE_PORTS.mariadb,
    api: portList(given.get('api') ?? undefined, 'ports.api') ?? NODE_PORTS.api,
    web: portList(given.get('web') ?? undefined, 'ports.web') ?? NODE_PORTS.web,
    lb: port(given.get('lb') ?? undefined, 'ports.lb') ?? NODE_PORTS.lb,
    lbAdmin: port(given.get('lbAdmin') ?? undefined, 'ports.lbAdmin') ?? NODE_PORTS.lbAdmin,
    lbPeer: port(given.get('lbPeer') ?? undefined, 'ports.lbPeer') ?? NODE_PORTS.lbPeer,
  };
  distinct(problems, file, ports);
  if (addr !== undefined && warehouse !== undefined && addr === warehouse.address) {
    problems.push(`${file}: address is the warehouse's address: a host runs one role`);
  }
  if (problems.length > 0) throw new SiteConfigError(problems.join('\n'));
  return { role: 'node', name: name as string, address: addr as string, home, warehouse: warehouse as NodeSite['warehouse'], ports };
}

/** Two services of one host on one port: named by their keys. */
function distinct(problems: string[], file: string, ports: object): void {
  const seen = new Map<number, string>();
  for (const [key, value] of Object.entries(ports)) {
    (Array.isArray(value) ? value : [value]).forEach((p: number, i: number) => {
      const name = Array.isArray(value) ? `ports.${key}[${i}]` : `ports.${key}`;
      const other = seen.get(p);
      if (other) problems.push(`${file}: ${name} is port ${p}, already ${other}'s`);
      else seen.set(p, name);
    });
  }
}
