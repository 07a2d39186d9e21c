import { startTopology } from '../index';
it('leaks', async () => {
  const t = await startTopology({ replicas: 1 });
  require('fs').writeFileSync('/tmp/leak-dir', t.dir);
});
