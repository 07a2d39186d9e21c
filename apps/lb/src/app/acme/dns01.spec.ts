import type { TxtRecords } from '@vita/dns-providers';
import { AcmeManager, AcmeSettings } from './acme-manager';
import { DNS01_TTL, Dns01Challenges, dns01RecordName } from './dns01';

/** TXT records in memory, with a switch to make calls fail. */
class MemoryTxt implements TxtRecords {
  readonly id = 'memory';
  readonly sets = new Map<string, Set<string>>();
  readonly calls: string[] = [];
  failAdd = false;
  failRemove = 0;
  async add(fqdn: string, value: string, ttl: number): Promise<void> {
    this.calls.push(`add ${fqdn} ${value} ${ttl}`);
    if (this.failAdd) throw new Error('memory: add refused');
    this.sets.set(fqdn, new Set([...(this.sets.get(fqdn) ?? []), value]));
  }
  async remove(fqdn: string, value: string): Promise<void> {
    this.calls.push(`remove ${fqdn} ${value}`);
    if (this.failRemove > 0) {
      this.failRemove--;
      throw new Error('memory: remove refused');
    }
    this.sets.get(fqdn)?.delete(value);
    if (this.sets.get(fqdn)?.size === 0) this.sets.delete(fqdn);
  }
  close(): void {
    // nothing held
  }
}

describe('DNS-01 records', () => {
  it('dns01RecordName: _acme-challenge under the name, the base name for a wildcard', () => {
    expect(dns01RecordName('www.vita.test')).toBe('_acme-challenge.www.vita.test');
    expect(dns01RecordName('*.vita.test')).toBe('_acme-challenge.vita.test');
    expect(dns01RecordName('WWW.Vita.Test.')).toBe('_acme-challenge.www.vita.test');
  });

  it('publishes each value beside the others (apex and wildcard share a name) and removes each on its own', async () => {
    const txt = new MemoryTxt();
    const c = new Dns01Challenges(txt);
    await c.publish('vita.test', 'apex-digest');
    await c.publish('*.vita.test', 'wildcard-digest');
    expect([...(txt.sets.get('_acme-challenge.vita.test') ?? [])]).toEqual(['apex-digest', 'wildcard-digest']);
    expect(txt.calls[0]).toBe(`add _acme-challenge.vita.test apex-digest ${DNS01_TTL}`);
    await c.unpublish('vita.test', 'apex-digest');
    expect([...(txt.sets.get('_acme-challenge.vita.test') ?? [])]).toEqual(['wildcard-digest']);
    expect(await c.removeAll()).toEqual([]);
    expect(txt.sets.size).toBe(0);
    expect(c.pending).toBe(0);
    await c.unpublish('vita.test', 'never-published'); // nothing to do
    expect(txt.calls.filter((x) => x.includes('never-published'))).toEqual([]);
  });

  it('a failed add is one line naming the name; the value is still taken down after (the add may have been applied)', async () => {
    const txt = new MemoryTxt();
    txt.failAdd = true;
    const c = new Dns01Challenges(txt);
    await expect(c.publish('www.vita.test', 'd1')).rejects.toThrow('DNS-01 for www.vita.test: publishing the _acme-challenge.www.vita.test TXT record failed: memory: add refused');
    expect(c.pending).toBe(1);
    expect(await c.removeAll()).toEqual([]);
    expect(txt.calls).toEqual([`add _acme-challenge.www.vita.test d1 ${DNS01_TTL}`, 'remove _acme-challenge.www.vita.test d1']);
  });

  it('a failed remove stays listed and removeAll tries it again, reporting what still fails', async () => {
    const txt = new MemoryTxt();
    const c = new Dns01Challenges(txt);
    await c.publish('www.vita.test', 'd1');
    txt.failRemove = 2;
    await expect(c.unpublish('www.vita.test', 'd1')).rejects.toThrow('memory: remove refused');
    expect(await c.removeAll()).toEqual(['DNS-01: removing a _acme-challenge.www.vita.test TXT record failed: memory: remove refused']);
    expect(await c.removeAll()).toEqual([]);
    expect(txt.sets.size).toBe(0);
  });

  it('waits propagationMs after publishing', async () => {
    const c = new Dns01Challenges(new MemoryTxt(), 150);
    const t0 = Date.now();
    await c.publish('www.vita.test', 'd1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});

describe('AcmeManager settings for DNS-01', () => {
  const base: AcmeSettings = { names: ['www.vita.test'], accountKeyFile: '/nonexistent/a.key', certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem', challengeDir: '/nonexistent/ch' };

  it('refuses a wildcard name without dns01, saying DNS-01 is what it needs', () => {
    expect(() => new AcmeManager({ ...base, names: ['vita.test', '*.vita.test'] })).toThrow(
      'acme: names: "*.vita.test" is a wildcard name, which only DNS-01 can validate: set dns01 (TXT records for _acme-challenge)',
    );
  });

  it('accepts a wildcard with dns01, and needs no challengeDir then; status says dns-01', () => {
    const m = new AcmeManager({ ...base, challengeDir: undefined, names: ['vita.test', '*.vita.test'], dns01: new MemoryTxt() });
    expect(m.status().challengeType).toBe('dns-01');
    expect(m.status().names.map((n) => n.name)).toEqual(['vita.test', '*.vita.test']);
    expect(new AcmeManager(base).status().challengeType).toBe('http-01');
  });

  it('without dns01, challengeDir is required; dns01 must look like TXT records; a wildcard only as the first label', () => {
    expect(() => new AcmeManager({ ...base, challengeDir: undefined })).toThrow('acme: challengeDir is required (for HTTP-01; or set dns01)');
    expect(() => new AcmeManager({ ...base, dns01: {} as TxtRecords })).toThrow(/^acme: dns01 must be TXT records/);
    expect(() => new AcmeManager({ ...base, dns01: new MemoryTxt(), dns01PropagationMs: -1 })).toThrow('acme: dns01PropagationMs must be 0..600000 ms');
    expect(() => new AcmeManager({ ...base, names: ['www.*.vita.test'], dns01: new MemoryTxt() })).toThrow('acme: names: "www.*.vita.test" is not a DNS name');
    expect(() => new AcmeManager({ ...base, names: ['*'], dns01: new MemoryTxt() })).toThrow('is not a DNS name');
  });
});
