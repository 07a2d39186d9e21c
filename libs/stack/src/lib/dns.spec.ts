import { BindNotInstalledError } from '@vita/bind';
import { localBindPrograms, probeAddressOf, zoneOf } from './dns';

describe('the local stack’s DNS failover settings', () => {
  it('publishes a name in the zone it is in', () => {
    expect(zoneOf('resume.vita.test')).toBe('vita.test');
    expect(zoneOf('Resume.Example.Org.')).toBe('example.org');
    expect(() => zoneOf('localhost')).toThrow(/no zone/);
  });

  it('probes an lb listening on a wildcard at 127.0.0.1, and on a given address at that address', () => {
    expect(['0.0.0.0', '::', '[::]', '', 'localhost'].map(probeAddressOf)).toEqual(Array(5).fill('127.0.0.1'));
    expect(probeAddressOf('127.0.0.2')).toBe('127.0.0.2');
    expect(probeAddressOf('[::1]')).toBe('::1');
  });

  it('needs named only: without it, BindNotInstalledError (the stack then skips DNS failover)', () => {
    expect(() => localBindPrograms({ VITA_NAMED: '/nonexistent/named' })).toThrow(BindNotInstalledError);
    expect(localBindPrograms({ VITA_NAMED: process.execPath, PATH: '/nonexistent' })).toEqual({ named: process.execPath, nsupdate: expect.any(String), dig: expect.any(String) });
  });
});
