import { loadConfig, parseNodes, parsePeers } from './config';

const base = { DNS_NAME: 'resume.vita.test', DNS_NODES: 'node-a=10.0.0.1,node-b=10.0.0.2', DNS_RFC2136_SERVER: '127.0.0.1:53', DNS_TSIG_KEY_FILE: '/etc/vita/tsig.key' };

describe('dns settings', () => {
  it('reads the nodes, A and AAAA, with canonical addresses', () => {
    expect(parseNodes('node-a=10.0.0.1, node-a=[2001:DB8:0:0::1],node-b=2001:db8::2')).toEqual([
      { key: 'node-a@10.0.0.1', node: 'node-a', address: '10.0.0.1', type: 'A' },
      { key: 'node-a@2001:db8::1', node: 'node-a', address: '2001:db8::1', type: 'AAAA' },
      { key: 'node-b@2001:db8::2', node: 'node-b', address: '2001:db8::2', type: 'AAAA' },
    ]);
  });

  it('names the DNS_NODES entry at fault', () => {
    expect(() => parseNodes('node-a=10.0.0.1,node-b')).toThrow('DNS_NODES entry 2 ("node-b") must be node=address');
    expect(() => parseNodes('Node_A=10.0.0.1')).toThrow(/entry 1 .*the node name must be a DNS label/);
    expect(() => parseNodes('node-a=10.0.0.300')).toThrow(/entry 1 .*must be an IPv4 or IPv6 address/);
    expect(() => parseNodes('node-a=node-a.example.org')).toThrow(/must be an IPv4 or IPv6 address/);
    expect(() => parseNodes('node-a=10.0.0.1,node-b=10.0.0.1')).toThrow(/entry 2 .*10\.0\.0\.1 is listed twice/);
  });

  it('takes peers as origins and refuses paths, credentials and other schemes', () => {
    expect(parsePeers('https://dns.b.example.org:3300, http://10.0.0.2:3300/')).toEqual(['https://dns.b.example.org:3300', 'http://10.0.0.2:3300']);
    expect(() => parsePeers('ftp://x')).toThrow('DNS_PEERS entry 1 must be an http(s) URL with no path, query or credentials');
    expect(() => parsePeers('https://a:b@x')).toThrow(/entry 1/);
    expect(() => parsePeers('http://x,https://y/api')).toThrow(/entry 2/);
    expect(() => parsePeers('not a url')).toThrow(/entry 1 must be an http\(s\) URL/);
  });

  it('has the documented defaults, the zone from the name, and an IPv6 server in brackets', () => {
    const c = loadConfig({ ...base, DNS_RFC2136_SERVER: '[::1]:5353' });
    expect(c.env).toMatchObject({ PORT: 3300, DNS_PROBE_INTERVAL_MS: 2000, DNS_FALL: 3, DNS_RISE: 3, DNS_TTL: 60, DNS_PROBE_PORT: 80, DNS_MIN_HOLD_MS: 20_000, DNS_STALE_AFTER_S: 120 });
    expect(c.providers).toEqual([{ kind: 'rfc2136', server: { host: '::1', port: 5353 }, zone: 'vita.test', keyFile: '/etc/vita/tsig.key', keyName: undefined }]);
    expect(c.nodes).toEqual(['node-a', 'node-b']);
  });

  it('stops with one line naming the setting', () => {
    expect(() => loadConfig({ ...base, DNS_NAME: 'not a name' })).toThrow(/^invalid environment: DNS_NAME must be a fully qualified DNS name/);
    expect(() => loadConfig({ ...base, DNS_TSIG_KEY_FILE: undefined })).toThrow('invalid environment: DNS_TSIG_KEY_FILE must be set when DNS_RFC2136_SERVER is (it is not set)');
    expect(() => loadConfig({ ...base, DNS_RFC2136_SERVER: undefined })).toThrow(/no DNS provider: set DNS_RFC2136_SERVER/);
    expect(() => loadConfig({ ...base, DNS_PEERS: 'http://10.0.0.2:3300' })).toThrow('invalid environment: DNS_PEER_TOKEN must be set when DNS_PEERS is (it is not set)');
    expect(() => loadConfig({ ...base, DNS_PEERS: 'http://10.0.0.2:3300', DNS_PEER_TOKEN: 'short' })).toThrow(/DNS_PEER_TOKEN must be at least 16 characters$/);
    expect(() => loadConfig({ ...base, DNS_RFC2136_ZONE: 'elsewhere.test' })).toThrow('invalid environment: DNS_NAME resume.vita.test is not inside DNS_RFC2136_ZONE elsewhere.test');
    expect(() => loadConfig({ ...base, DNS_PROBE_TIMEOUT_MS: '2000' })).toThrow('DNS_PROBE_TIMEOUT_MS must be below DNS_PROBE_INTERVAL_MS');
    expect(() => loadConfig({ ...base, DNS_FALL: 'three' })).toThrow(/DNS_FALL must be an integer number/);
  });

  it('never puts a token in an error', () => {
    const token = 'x'.repeat(10);
    try {
      loadConfig({ ...base, DNS_ADMIN_TOKEN: token });
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toMatch(/DNS_ADMIN_TOKEN must be at least 16/);
      expect((err as Error).message).not.toContain(token);
    }
  });
});
