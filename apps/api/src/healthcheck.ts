import { request } from 'node:http';

/** Docker HEALTHCHECK: exit 0 when /health/live answers 200 within 2 s. No shell or curl needed. */
const port = Number(process.env.PORT ?? 3100);
const req = request({ host: '127.0.0.1', port, path: '/health/live', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
