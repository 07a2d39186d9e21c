import type { Servers } from '../config/servers';
import { serversWithNodes } from './site-servers';

const configured: Servers = {
  primary: { name: 'primary', host: '10.77.0.2', port: 3306, node: null, role: 'primary' },
  replicas: [{ name: 'replica1', host: '10.77.0.11', port: 3306, node: 'node-a', role: 'replica' }],
};

describe('serversWithNodes', () => {
  it('adds each node replica after the configured servers, named after its node', () => {
    const s = serversWithNodes(configured, [{ name: 'node-b', address: '10.77.0.12', dbPort: 3306 }]);
    expect(s.primary).toBe(configured.primary);
    expect(s.replicas).toEqual([...configured.replicas, { name: 'node-b', host: '10.77.0.12', port: 3306, node: 'node-b', role: 'replica' }]);
  });

  it('never watches one server twice: a node that is a configured server (by name or address) is not added again', () => {
    const s = serversWithNodes(configured, [
      { name: 'node-a', address: '10.77.0.11', dbPort: 3306 },
      { name: 'replica1', address: '10.77.0.99', dbPort: 3306 },
      { name: 'node-c', address: '10.77.0.2', dbPort: 3306 },
      { name: 'node-d', address: '10.77.0.14', dbPort: 3306 },
      { name: 'node-d', address: '10.77.0.15', dbPort: 3306 },
    ]);
    expect(s.replicas.map((r) => r.name)).toEqual(['replica1', 'node-d']);
    expect(s.replicas[1].host).toBe('10.77.0.14');
  });

  it('leaves the configured servers as they were', () => {
    const before = JSON.stringify(configured);
    serversWithNodes(configured, [{ name: 'node-b', address: '10.77.0.12', dbPort: 3306 }]);
    expect(JSON.stringify(configured)).toBe(before);
    expect(serversWithNodes(configured, [])).toEqual(configured);
  });
});
