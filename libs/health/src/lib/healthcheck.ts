import { request } from 'node:http';

/**
 * The container HEALTHCHECK of every Vita image: exits 0 when `/health/live` on this host answers
 * 200 within `timeoutMs`, 1 otherwise. Needs no shell or curl in the image.
 */
export function runHealthcheck(port: number, timeoutMs = 2000): void {
  const req = request({ host: '127.0.0.1', port, path: '/health/live', timeout: timeoutMs }, (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => process.exit(1));
  req.end();
}
