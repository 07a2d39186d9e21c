import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { addressKey, admit, Admission, BASE_DESCRIPTORS, descriptorBudget, excessIdle, idleToFree, newAdmissionCounters, openFilesLimit, Summary } from './admission';

const limits = { maxConnections: 10, maxConnectionsPerAddress: 3, maxIdleConnections: 16 };

/** A logger that keeps what it is given. */
function recorder() {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => void lines.push({ fields, msg }) } as unknown as Logger;
  return { lines, log };
}

describe('connection admission', () => {
  it('refuses at the total cap, then at the per-address cap; trusted proxies only count towards the total', () => {
    expect(admit(limits, 0, 0, false)).toBeNull();
    expect(admit(limits, 9, 2, false)).toBeNull();
    expect(admit(limits, 10, 0, false)).toBe('maxConnections');
    expect(admit(limits, 10, 5, true)).toBe('maxConnections');
    expect(admit(limits, 5, 3, false)).toBe('maxConnectionsPerAddress');
    expect(admit(limits, 5, 300, true)).toBeNull();
  });

  it('counts IPv4 addresses one by one and IPv6 ones by /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('keeps client connections within the open-file limit: room for backend connections and idle pools', () => {
    const backends = [{ maxconn: 256 }, { maxconn: 256 }];
    expect(descriptorBudget(null, backends, 64)).toBeNull();
    // Plenty: every backend slot in use still leaves one descriptor per further client.
    expect(descriptorBudget(1_048_576, backends, 64)).toBe(1_048_576 - BASE_DESCRIPTORS - 128 - 512);
    // Few: each client may need a backend connection as well.
    expect(descriptorBudget(1024, backends, 64)).toBe(Math.floor((1024 - BASE_DESCRIPTORS - 128) / 2));
    expect(descriptorBudget(64, backends, 64)).toBe(1);
  });

  it('reads the soft open-file limit from /proc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vita-lb-limits-'));
    try {
      const file = join(dir, 'limits');
      writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            4096                 524288               files\n');
      expect(openFilesLimit(file)).toBe(4096);
      writeFileSync(file, 'Max open files            unlimited            unlimited            files\n');
      expect(openFilesLimit(file)).toBeNull();
      expect(openFilesLimit(join(dir, 'missing'))).toBeNull();
      if (process.platform === 'linux') expect(openFilesLimit()).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the longest-idle connections past the idle cap, never busy ones; out of descriptors, a tenth (at least 16)', () => {
    const conns = [
      { id: 'busy', idle: false, idleSince: 0 },
      { id: 'old', idle: true, idleSince: 100 },
      { id: 'young', idle: true, idleSince: 300 },
      { id: 'middle', idle: true, idleSince: 200 },
      { id: 'writing', idle: false, idleSince: 50 },
    ];
    expect(excessIdle(conns, 3)).toEqual([]);
    expect(excessIdle(conns, 1).map((c) => c.id)).toEqual(['old', 'middle']);
    expect(excessIdle(conns, 0).map((c) => c.id)).toEqual(['old', 'middle', 'young']);
    expect(idleToFree(conns).map((c) => c.id)).toEqual(['old', 'middle', 'young']);
    const many = Array.from({ length: 500 }, (_, i) => ({ idle: true, idleSince: 1000 - i }));
    expect(idleToFree(many)).toHaveLength(50);
    expect(idleToFree(many)[0].idleSince).toBe(501);
  });

  it('counts per address, releases, and counts each refusal by the limit that refused it', () => {
    const counters = newAdmissionCounters();
    const { lines, log } = recorder();
    const admission = new Admission(limits, counters, log);
    for (let i = 0; i < 3; i++) expect(admission.take('198.51.100.1', false)).toBe(true);
    expect(admission.take('198.51.100.1', false)).toBe(false);
    expect(admission.take('198.51.100.1', true)).toBe(true); // a trusted proxy
    admission.release('198.51.100.1');
    admission.release('198.51.100.1');
    expect(admission.take('198.51.100.1', false)).toBe(true);
    for (let i = 0; i < 7; i++) expect(admission.take(`198.51.100.${10 + i}`, false)).toBe(true);
    expect(admission.open).toBe(10);
    expect(admission.take('198.51.100.99', false)).toBe(false);
    expect(counters.connectionsRefused).toEqual({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    // The first refusal is logged at once; the second falls in the same interval and waits.
    expect(lines).toHaveLength(1);
    expect(lines[0].fields).toMatchObject({ counts: { maxConnectionsPerAddress: 1 }, addresses: [{ address: '198.51.100.1', count: 1 }] });
    admission.stop();
  });

  it('lowers maxConnections to the descriptor budget, and says what was configured', () => {
    const admission = new Admission(limits, newAdmissionCounters(), recorder().log);
    admission.configure({ ...limits, maxConnections: 5000 }, 1200);
    expect(admission.limits.maxConnections).toBe(1200);
    expect(admission.lowered).toBe(5000);
    admission.configure({ ...limits, maxConnections: 500 }, 1200);
    expect(admission.limits.maxConnections).toBe(500);
    expect(admission.lowered).toBeNull();
    admission.configure(limits, null);
    expect(admission.limits).toEqual(limits);
  });

  it('logs at most one summary per interval: the first event at once, the rest at the end of the interval', async () => {
    const { lines, log } = recorder();
    const summary = new Summary(log, 'refused', 100);
    summary.note('maxConnections', '192.0.2.1');
    for (let i = 0; i < 50; i++) summary.note('maxConnections', `192.0.2.${i % 7}`);
    summary.note('idleClosed.maxIdleConnections', undefined, 30);
    expect(lines).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(lines).toHaveLength(2);
    expect(lines[1].fields).toMatchObject({ counts: { maxConnections: 50, 'idleClosed.maxIdleConnections': 30 }, intervalMs: 100 });
    expect(lines[1].fields['addresses']).toHaveLength(5);
    await new Promise((r) => setTimeout(r, 150));
    expect(lines).toHaveLength(2);
    summary.stop();
  });
});
