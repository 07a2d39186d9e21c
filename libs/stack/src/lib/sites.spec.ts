import { readHosts, replServers, resolvConf } from './sites';

describe('a content node reads its own replica first, then the other nodes, then the primary', () => {
  it('DB_READ_HOSTS', () => {
    expect(readHosts('10.77.0.11:3306', ['10.77.0.12:3306'], '10.77.0.10:3306')).toBe('replica@10.77.0.11:3306,replica@10.77.0.12:3306,primary@10.77.0.10:3306');
    expect(readHosts('10.0.0.2:3306', [], '10.0.0.1:3306')).toBe('replica@10.0.0.2:3306,primary@10.0.0.1:3306');
  });

  it("REPL_SERVERS: the primary first, each replica labelled with its node", () => {
    expect(replServers({ address: '10.77.0.10', port: 3306 }, [{ name: 'node-a-replica', node: 'node-a', address: '10.77.0.11', port: 3306 }])).toBe(
      'primary=10.77.0.10:3306,node-a-replica=10.77.0.11:3306@node-a',
    );
  });
});

describe("a namespace's resolver", () => {
  it('resolv.conf names the one server, one short try at a time', () => {
    expect(resolvConf('10.77.0.10')).toBe('nameserver 10.77.0.10\noptions timeout:1 attempts:2\n');
  });
});
