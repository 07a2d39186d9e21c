/// <reference lib="dom" />
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, chromium } from 'playwright-core';
import { pagePolicy } from '../app/themes/page-policy';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Answers any path with something of the kind its extension says; records what was asked. */
function assetServer(seen: string[]): Server {
  return createServer((req, res) => {
    seen.push(req.url ?? '');
    const url = req.url ?? '';
    if (url.includes('.css')) res.writeHead(200, { 'content-type': 'text/css' }).end('body{}');
    else if (url.includes('.js')) res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' }).end('document.documentElement.dataset.ext = "ran";');
    else if (url.includes('.woff')) res.writeHead(200, { 'content-type': 'font/woff2', 'access-control-allow-origin': '*' }).end(Buffer.alloc(8));
    else res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  });
}

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

/**
 * A page server that sends each page with the CSP pagePolicy computes from it (as web does for a
 * theme's page), another origin for its external files, and a real Chromium to show the pages in.
 */
export class CspOracle {
  browser?: Browser;
  readonly pages = new Map<string, string>();
  readonly otherSeen: string[] = [];
  readonly selfSeen: string[] = [];
  private readonly servers: Server[] = [];
  url = '';
  other = '';

  async start(): Promise<this> {
    const self = assetServer(this.selfSeen);
    self.removeAllListeners('request');
    self.on('request', (req, res) => {
      const name = /^\/p\/([^?]+)/.exec(req.url ?? '')?.[1];
      const html = name === undefined ? undefined : this.pages.get(name);
      if (html === undefined) {
        this.selfSeen.push(req.url ?? '');
        const url = req.url ?? '';
        if (url.includes('.css')) return void res.writeHead(200, { 'content-type': 'text/css' }).end('body{}');
        if (url.includes('.js')) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end('document.documentElement.dataset.self = "ran";');
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': pagePolicy(html) }).end(html);
    });
    const other = assetServer(this.otherSeen);
    this.servers.push(self, other);
    this.url = await listen(self);
    this.other = await listen(other);
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    return this;
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  /** Shows `html` under its computed policy; the violations Chromium reports, and what the page's scripts set. */
  async show(name: string, html: string, waitMs = 400): Promise<{ violations: string[]; policy: string; ext?: string; title: string; compatMode: string }> {
    this.pages.set(name, html);
    if (this.browser === undefined) throw new Error('the oracle is not started');
    const page = await this.browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => /Content.Security.Policy/i.test(m.text()) && violations.push(m.text().slice(0, 300)));
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    try {
      await page.goto(`${this.url}/p/${name}`, { waitUntil: 'load', timeout: 20_000 });
      await page.waitForTimeout(waitMs);
      const ext = await page.evaluate(() => document.documentElement.dataset['ext']);
      return { violations: [...new Set(violations)], policy: pagePolicy(html), ext, title: await page.title(), compatMode: await page.evaluate(() => document.compatMode) };
    } finally {
      await page.close();
    }
  }
}
