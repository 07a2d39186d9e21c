import { execFile } from 'node:child_process';

/** What the tests read of a dns controller's GET /api/v1/status. */
export interface ControllerStatus {
  vantage: string;
  rounds: number;
  quorum: boolean;
  vantages: { configured: number; heard: string[] };
  records: { A?: string[] };
  endpoints: Array<{ node: string; address: string; published: boolean; verdict: string; reason: string; here: { up: boolean } | null }>;
  drains: Array<{ node: string; drained: boolean; reason: string; by: string }>;
  providers: Array<{ provider: string; state: string }>;
}

/**
 * The A records of `name` as a program in namespace `netns` gets them: `dig +short` through the
 * namespace's resolv.conf (no server named), sorted; null when no answer came (one try of 1 s).
 */
export function digA(netns: string, name: string): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'dig', '+short', '+time=1', '+tries=1', name, 'A'], { timeout: 5000, encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve(null);
      const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      // A timeout prints ";; communications error" / "no servers could be reached" on stdout.
      if (lines.some((l) => l.startsWith(';'))) return resolve(null);
      resolve(lines.sort());
    });
  });
}
