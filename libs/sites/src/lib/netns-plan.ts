// The pure decisions of the namespace topology: names, addresses, firewall rules, what a sweep removes.

/** Every namespace, link and /etc/netns folder of one run starts with `vita-<pid>-<n>-`. */
export const NETNS_PREFIX = 'vita-';
const RUN_NAME = /^vita-(\d+)-(\d+)-([a-z][a-z0-9-]*)$/;
const HOST_NAME = /^[a-z][a-z0-9-]{0,11}$/;
/** The namespace holding the run's bridge (not a host: nothing listens there). */
export const SWITCH = 'switch';

export interface HostPlan {
  name: string;
  /** The host's network namespace. */
  netns: string;
  /** Its address on the shared segment. */
  address: string;
}

export interface TopologyPlan {
  /** `vita-<pid>-<n>-`: the run's prefix. */
  prefix: string;
  switchNetns: string;
  /** `a.b.c`: the /24 the hosts share. */
  subnet: string;
  hosts: HostPlan[];
}

/** Names and addresses of a run: host i gets `<subnet>.<10 + i>`. Errors name the bad field. */
export function planTopology(hosts: string[], opts: { pid: number; run: number; subnet?: string }): TopologyPlan {
  const subnet = opts.subnet ?? '10.77.0';
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(subnet) || subnet.split('.').some((o) => Number(o) > 255)) {
    throw new Error(`subnet must be the first three octets of a /24, like 10.77.0 (got "${subnet}")`);
  }
  if (hosts.length === 0 || hosts.length > 200) throw new Error('hosts must list 1 to 200 host names');
  hosts.forEach((h, i) => {
    if (!HOST_NAME.test(h)) throw new Error(`hosts[${i}] must be 1-12 characters of a-z, 0-9 and -, starting with a letter (got "${h}")`);
    if (h === SWITCH) throw new Error(`hosts[${i}]: "${SWITCH}" is the name of the run's bridge namespace`);
    if (hosts.indexOf(h) !== i) throw new Error(`hosts[${i}]: "${h}" is listed twice`);
  });
  const prefix = `${NETNS_PREFIX}${opts.pid}-${opts.run}-`;
  return {
    prefix,
    switchNetns: `${prefix}${SWITCH}`,
    subnet,
    hosts: hosts.map((name, i) => ({ name, netns: `${prefix}${name}`, address: `${subnet}.${10 + i}` })),
  };
}

/** The owning process of a namespace this library made (undefined: not one of ours). */
export function ownerPid(netns: string): number | undefined {
  const m = RUN_NAME.exec(netns);
  return m ? Number(m[1]) : undefined;
}

/** Which of `names` (namespaces, or /etc/netns folders) are leftovers of runs whose process is gone. */
export function leftovers(names: string[], alive: (pid: number) => boolean): string[] {
  return names.filter((n) => {
    const pid = ownerPid(n);
    return pid !== undefined && !alive(pid);
  });
}

/** Packets between two hosts dropped both ways; with `port`, only TCP to that port on `b` (and its answers). */
export interface Cut {
  a: string;
  b: string;
  port?: number;
}

export interface Blocks {
  cuts: Cut[];
  isolated: string[];
}

/** The nftables table every host's rules live in (inside the host's own namespace). */
export const NFT_TABLE = 'vita_sites';

/** The rules `host`'s namespace needs for `blocks`: input and output rule bodies. Pure. */
export function hostRules(host: string, blocks: Blocks, addressOf: (host: string) => string): { input: string[]; output: string[] } {
  const input: string[] = [];
  const output: string[] = [];
  if (blocks.isolated.includes(host)) {
    input.push('iifname != "lo" drop');
    output.push('oifname != "lo" drop');
  }
  for (const cut of blocks.cuts) {
    if (cut.a !== host && cut.b !== host) continue;
    const peer = addressOf(cut.a === host ? cut.b : cut.a);
    if (cut.port === undefined) {
      input.push(`ip saddr ${peer} drop`);
      output.push(`ip daddr ${peer} drop`);
    } else if (cut.a === host) {
      output.push(`ip daddr ${peer} tcp dport ${cut.port} drop`);
      input.push(`ip saddr ${peer} tcp sport ${cut.port} drop`);
    } else {
      input.push(`ip saddr ${peer} tcp dport ${cut.port} drop`);
      output.push(`ip daddr ${peer} tcp sport ${cut.port} drop`);
    }
  }
  return { input, output };
}

/** An `nft -f` script replacing the host's table in one transaction. Pure. */
export function nftScript(rules: { input: string[]; output: string[] }): string {
  const chain = (name: string, hook: string, body: string[]) =>
    [`  chain ${name} {`, `    type filter hook ${hook} priority 0; policy accept;`, ...body.map((r) => `    ${r}`), '  }'].join('\n');
  return [
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    chain('input', 'input', rules.input),
    chain('output', 'output', rules.output),
    '}',
    '',
  ].join('\n');
}

/** A TCP port number, or an error naming `field`. */
export function checkPort(port: number, field: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${field} must be a TCP port (1-65535), got ${port}`);
  return port;
}

/** `/etc/hosts` of every host: each host's name at its address, and localhost. Pure. */
export function hostsFile(plan: TopologyPlan): string {
  return ['127.0.0.1 localhost', '::1 localhost', ...plan.hosts.map((h) => `${h.address} ${h.name}`), ''].join('\n');
}
