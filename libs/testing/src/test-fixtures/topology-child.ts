// Spawned by topology.spec.ts: starts a topology, prints where it lives, then exits the way argv[2] says.
import { startTopology } from '../index';

const mode = process.argv[2] ?? 'wait';
startTopology({ replicas: 1 }).then(
  (t) => {
    const pids = [t.primary, ...t.replicas].map((s) => s.pid);
    process.stdout.write(`${JSON.stringify({ dir: t.dir, pids })}\n`);
    if (mode === 'exit') process.exit(0); // no close(): the 'exit' hook must clean up
    setInterval(() => undefined, 1_000); // wait for a signal
  },
  (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  },
);
