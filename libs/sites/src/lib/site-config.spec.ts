import { NODE_PORTS, parseSiteConfig, SiteConfigError } from './site-config';

const node = `role: node
name: node-a
address: 10.77.0.11
warehouse: 10.77.0.2
`;

describe('parseSiteConfig', () => {
  it('reads a content node file and fills in the default ports and home', () => {
    expect(parseSiteConfig(node)).toEqual({
      role: 'node',
      name: 'node-a',
      address: '10.77.0.11',
      home: '/var/lib/vita',
      warehouse: { address: '10.77.0.2', mariadb: 3306, replAdmin: 3200 },
      ports: NODE_PORTS,
    });
  });

  it('reads a warehouse file, and a node file with every setting given', () => {
    expect(parseSiteConfig('role: warehouse\nname: dw\naddress: dw.example.net\nports: { mariadb: 3307 }\n')).toEqual({
      role: 'warehouse',
      name: 'dw',
      address: 'dw.example.net',
      home: '/var/lib/vita',
      ports: { mariadb: 3307, replAdmin: 3200 },
    });
    const full = parseSiteConfig(`role: node
name: ro-1
address: 2001:db8::11
home: /srv/vita
warehouse: { address: dw.example.net, mariadb: 3307, replAdmin: 3201 }
ports: { mariadb: 3308, api: [3100, 3101, 3102], web: 3000, lb: 8080, lbAdmin: 8405, lbPeer: 8444 }
`);
    expect(full).toMatchObject({
      address: '2001:db8::11',
      home: '/srv/vita',
      warehouse: { address: 'dw.example.net', mariadb: 3307, replAdmin: 3201 },
      ports: { mariadb: 3308, api: [3100, 3101, 3102], web: [3000], lb: 8080, lbAdmin: 8405, lbPeer: 8444 },
    });
  });

  it.each([
    ['name: a\naddress: 10.0.0.1\nwarehouse: 10.0.0.2\n', /^site\.yaml: role is missing \(warehouse or node\)$/],
    ['role: mirror\nname: a\naddress: 10.0.0.1\n', /^site\.yaml:1: role must be warehouse or node$/],
    [node.replace('name: node-a', 'name: Node_A'), /^site\.yaml:2: name must be a DNS label/],
    [node.replace('address: 10.77.0.11', 'address: 10.77.0.999/24'), /^site\.yaml:3: address must be an IP address or a DNS name$/],
    [node.replace('warehouse: 10.77.0.2\n', ''), /^site\.yaml: warehouse is missing/],
    [node + 'ports:\n  lb: 70000\n', /^site\.yaml:6: ports\.lb must be a port number \(1-65535\)$/],
    [node + 'ports:\n  api: [3100, x]\n', /^site\.yaml:6: ports\.api\[1\] must be a port number/],
    [node + 'ports:\n  web: [3100]\n', /^site\.yaml: ports\.web\[0\] is port 3100, already ports\.api\[0\]'s$/],
    [node + 'port:\n  lb: 81\n', /^site\.yaml:5: port is not a setting here \(known: role, name, address, home, warehouse, ports\)$/],
    [node + 'ports:\n  replAdmin: 3200\n', /^site\.yaml:6: ports\.replAdmin is not a setting here/],
    [node + 'home: var/lib\n', /^site\.yaml:5: home must be an absolute path$/],
    [node.replace('warehouse: 10.77.0.2', 'warehouse: 10.77.0.11'), /^site\.yaml: address is the warehouse's address: a host runs one role$/],
    ['role: warehouse\nname: dw\naddress: 10.0.0.2\nwarehouse: 10.0.0.3\n', /^site\.yaml:4: warehouse is a content node setting/],
    [node + 'name: again\n', /^site\.yaml:5: Map keys must be unique/],
    ['- role: node\n', /^site\.yaml: must be a YAML mapping/],
  ])('refuses a bad file with the line and key at fault (%#)', (text, message) => {
    let error: unknown;
    try {
      parseSiteConfig(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SiteConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('reports every problem of a file at once, one per line', () => {
    const attempt = () => parseSiteConfig('role: node\nname: A\naddress: "-"\nwarehouse: 10.0.0.2\n', '/etc/vita/site.yaml');
    expect(attempt).toThrow(/^\/etc\/vita\/site\.yaml:2: name must be a DNS label[^\n]*\n\/etc\/vita\/site\.yaml:3: address must be an IP address or a DNS name$/);
  });
});
