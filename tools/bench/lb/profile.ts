import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const IDLE = 'idle (waiting for I/O)';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where the profiled processes (`pids`) spent their time, by function (self time) and by broad category. */
export function summarizeProfiles(dir: string, pids: number[], top = 15): string {
  const self = new Map<string, number>();
  const categories = new Map<string, number>();
  let total = 0;
  // Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && pids.some((pid) => f.includes(`.${pid}.`)))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      if (!frame) return;
      const where = frame.url.replace(/^.*\/(node_modules\/)?/, '$1');
      const key = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + ms);
      const category =
        frame.functionName === '(idle)' ? IDLE
        : frame.functionName === '(garbage collector)' ? 'garbage collection'
        : frame.url.includes('apps/lb') || frame.url.endsWith('worker.js') || frame.url.endsWith('main.js') ? 'lb code'
        : frame.url.startsWith('node:') ? 'Node core (http, net, streams, timers)'
        : frame.url === '' ? 'native: socket writes (kernel TCP included), parser, program'
        : 'libraries';
      categories.set(category, (categories.get(category) ?? 0) + ms);
      total += ms;
    });
  }
  // Percentages of the time the process was busy (waiting for I/O left out).
  const idle = categories.get(IDLE) ?? 0;
  const pct = (ms: number) => `${((ms / (total - idle)) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`  busy ${((1 - idle / total) * 100).toFixed(0)}% of the run; of the busy time, by category:`];
  for (const [k, ms] of [...categories].sort((a, b) => b[1] - a[1])) if (k !== IDLE) lines.push(`    ${pct(ms)}  ${k}`);
  lines.push(`  top ${top} functions by self time:`);
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).filter(([k]) => !k.startsWith('(idle)')).slice(0, top)) lines.push(`    ${pct(ms)}  ${k}`);
  return lines.join('\n');
}
