import { runHealthcheck } from '@vita/health';
import { parseHostPort } from '@vita/runtime';
import { adminListen } from './app/config/load';

// The image's HEALTHCHECK: /health/live on the admin port (LB_ADMIN_LISTEN, the file's admin.listen, or 8404).
runHealthcheck(parseHostPort(adminListen(process.env)).port);
