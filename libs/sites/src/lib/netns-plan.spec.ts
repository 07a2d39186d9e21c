import { hostRules, leftovers, nftScript, ownerPid, planTopology } from './netns-plan';

describe('planTopology', () => {
  it('names every namespace with the run prefix and gives host i the address .10+i', () => {
    const plan = planTopology(['warehouse', 'node-a'], { pid: 42, run: 3 });
    expect(plan.prefix).toBe('vita-42-3-');
    expect(plan.switchNetns).toBe('vita-42-3-switch');
    expect(plan.hosts).toEqual([
      { name: 'warehouse', netns: 'vita-42-3-warehouse', address: '10.77.0.10' },
      { name: 'node-a', netns: 'vita-42-3-node-a', address: '10.77.0.11' },
    ]);
    expect(planTopology(['x'], { pid: 1, run: 0, subnet: '10.9.8' }).hosts[0].address).toBe('10.9.8.10');
  });

  it('refuses bad names and subnets with the field named', () => {
    expect(() => planTopology(['Node_A'], { pid: 1, run: 0 })).toThrow(/^hosts\[0\] must be/);
    expect(() => planTopology(['a-very-long-name'], { pid: 1, run: 0 })).toThrow(/^hosts\[0\]/);
    expect(() => planTopology(['a', 'a'], { pid: 1, run: 0 })).toThrow(/^hosts\[1\]: "a" is listed twice/);
    expect(() => planTopology(['switch'], { pid: 1, run: 0 })).toThrow(/bridge namespace/);
    expect(() => planTopology([], { pid: 1, run: 0 })).toThrow(/^hosts must/);
    expect(() => planTopology(['a'], { pid: 1, run: 0, subnet: '10.77.300' })).toThrow(/^subnet must/);
    expect(() => planTopology(['a'], { pid: 1, run: 0, subnet: '10.77.0.0/24' })).toThrow(/^subnet must/);
  });
});

describe('leftovers', () => {
  it('are names of this library whose owning process is gone, nothing else', () => {
    expect(ownerPid('vita-123-0-node-a')).toBe(123);
    expect(ownerPid('vita-node')).toBeUndefined();
    expect(ownerPid('other-123-0-x')).toBeUndefined();
    const alive = (pid: number) => pid === 7;
    expect(leftovers(['vita-7-0-node-a', 'vita-8-1-switch', 'vita-8-1-agents', 'vita-lb-test-abc', 'netns-of-someone'], alive)).toEqual([
      'vita-8-1-switch',
      'vita-8-1-agents',
    ]);
  });
});

describe('hostRules', () => {
  const addressOf = (h: string) => ({ a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' })[h] as string;

  it('a whole cut drops everything to and from the peer, on both sides', () => {
    const blocks = { cuts: [{ a: 'a', b: 'b' }], isolated: [] };
    expect(hostRules('a', blocks, addressOf)).toEqual({ input: ['ip saddr 10.0.0.2 drop'], output: ['ip daddr 10.0.0.2 drop'] });
    expect(hostRules('b', blocks, addressOf)).toEqual({ input: ['ip saddr 10.0.0.1 drop'], output: ['ip daddr 10.0.0.1 drop'] });
    expect(hostRules('c', blocks, addressOf)).toEqual({ input: [], output: [] });
  });

  it("a port cut drops only TCP to that port on b and b's answers from it", () => {
    const blocks = { cuts: [{ a: 'a', b: 'b', port: 3306 }], isolated: [] };
    expect(hostRules('a', blocks, addressOf)).toEqual({
      input: ['ip saddr 10.0.0.2 tcp sport 3306 drop'],
      output: ['ip daddr 10.0.0.2 tcp dport 3306 drop'],
    });
    expect(hostRules('b', blocks, addressOf)).toEqual({
      input: ['ip saddr 10.0.0.1 tcp dport 3306 drop'],
      output: ['ip daddr 10.0.0.1 tcp sport 3306 drop'],
    });
  });

  it('an isolated host drops everything but its loopback', () => {
    expect(hostRules('c', { cuts: [], isolated: ['c'] }, addressOf)).toEqual({ input: ['iifname != "lo" drop'], output: ['oifname != "lo" drop'] });
  });

  it('the script replaces the table in one transaction', () => {
    const script = nftScript({ input: ['ip saddr 10.0.0.2 drop'], output: [] });
    expect(script.split('\n').slice(0, 3)).toEqual(['table inet vita_sites', 'delete table inet vita_sites', 'table inet vita_sites {']);
    expect(script).toContain('type filter hook input priority 0; policy accept;\n    ip saddr 10.0.0.2 drop\n  }');
  });
});
