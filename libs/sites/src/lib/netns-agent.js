// Runs inside one host's network namespace (`ip netns exec <ns> node netns-agent.js <socket>`): an
// HTTP forward proxy on a unix socket (a file, so reachable from the root namespace), making each
// request from inside the host. `x-netns-connect-timeout-ms` and `x-netns-timeout-ms` bound the
// connect and the whole exchange; an https:// target is verified against the CA file named by
// `x-netns-ca-file`; a failure answers 502 with `x-netns-error: <code>`. Exits when the process that
// started it is gone.
'use strict';
const http = require('node:http');
const https = require('node:https');
const { readFileSync } = require('node:fs');
const { rmSync } = require('node:fs');

const socketPath = process.argv[2];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-netns-connect-timeout-ms', 'x-netns-timeout-ms', 'x-netns-ca-file']);

function fail(res, code, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(502, { 'x-netns-error': code, 'content-type': 'text/plain' });
  res.end(message);
}

const server = http.createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url);
  } catch {
    return fail(res, 'EBADURL', 'the request line must carry an absolute http:// or https:// URL');
  }
  let ca;
  if (target.protocol === 'https:') {
    try {
      ca = readFileSync(String(req.headers['x-netns-ca-file']));
    } catch {
      return fail(res, 'ENOCA', 'an https:// target needs x-netns-ca-file naming a readable CA file');
    }
  }
  const connectMs = Number(req.headers['x-netns-connect-timeout-ms'] ?? 5000);
  const totalMs = Number(req.headers['x-netns-timeout-ms'] ?? 30000);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && k !== 'host') headers[k] = v;
  const out = ca ? https.request(target, { method: req.method, headers, agent: false, ca }) : http.request(target, { method: req.method, headers, agent: false });
  const total = setTimeout(() => out.destroy(Object.assign(new Error(`no answer within ${totalMs} ms`), { code: 'ETIMEDOUT' })), totalMs);
  out.on('socket', (socket) => {
    const connect = setTimeout(() => out.destroy(Object.assign(new Error(`no connection within ${connectMs} ms`), { code: 'ECONNTIMEOUT' })), connectMs);
    socket.once(ca ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    socket.once('close', () => clearTimeout(connect));
  });
  out.on('response', (up) => {
    const pairs = [];
    for (let i = 0; i < up.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(up.rawHeaders[i].toLowerCase())) pairs.push(up.rawHeaders[i], up.rawHeaders[i + 1]);
    }
    res.writeHead(up.statusCode ?? 502, pairs);
    up.pipe(res);
    up.on('end', () => clearTimeout(total));
    up.on('error', () => res.destroy());
  });
  out.on('error', (err) => {
    clearTimeout(total);
    fail(res, err.code ?? 'EFAIL', err.message);
  });
  req.pipe(out);
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => process.stdout.write('ready\n'));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    rmSync(socketPath, { force: true });
    process.exit(0);
  }
}, 1000).unref();
process.on('SIGTERM', () => {
  rmSync(socketPath, { force: true });
  process.exit(0);
});
