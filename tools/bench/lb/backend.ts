import { createServer } from 'node:http';

// A benchmark backend: 1 KiB responses on keep-alive connections, and /health/ready for the checks.
const port = Number(process.argv[2]);
const body = Buffer.alloc(1024, 'x');
const headers = { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) };
createServer((req, res) => {
  req.resume();
  if (req.url === '/health/ready') res.writeHead(200, { 'Content-Length': '2' }).end('ok');
  else res.writeHead(200, headers).end(body);
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
