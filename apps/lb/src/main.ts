import { runMain } from '@vita/runtime';
import { startLb } from './app/lb';

runMain('lb', async () => {
  const lb = await startLb(process.env);
  process.on('SIGHUP', () => lb.reload());
  const stop = () =>
    lb.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
