import { runHealthcheck } from '@vita/health';

runHealthcheck(Number(process.env['PORT'] ?? 3300));
