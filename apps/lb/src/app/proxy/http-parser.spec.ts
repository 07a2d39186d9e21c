import { workspaceRoot } from '@vita/testing';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parserProblem, SUPPORTED_NODE_MAJORS } from './http-parser';

// The real module lb checks at load time, and a copy to break one part at a time.
const common = require('node:_http_common') as { HTTPParser: { new (): Record<number, unknown> } & Record<string, unknown>; methods: string[] };

describe("lb's start-up check of Node's HTTP parser", () => {
  it('accepts the Node.js this test runs on, a supported line, with its real parser', () => {
    expect(SUPPORTED_NODE_MAJORS).toEqual([20, 22, 24, 26]);
    expect(SUPPORTED_NODE_MAJORS).toContain(Number(process.versions.node.split('.')[0]));
    expect(parserProblem(process.version, common)).toBeUndefined();
  });

  it('refuses release lines lb is not tested on, even with a working parser', () => {
    for (const version of ['v18.20.4', 'v21.7.3', 'v23.11.0', 'v25.0.0', 'v27.0.0', 'v28.1.0', 'nonsense']) {
      expect(parserProblem(version, common)).toBe('not a release line lb is tested on');
    }
    for (const major of SUPPORTED_NODE_MAJORS) expect(parserProblem(`v${major}.0.0`, common)).toBeUndefined();
  });

  it('refuses a parser that lacks what lb uses, naming the missing parts', () => {
    expect(parserProblem(process.version, {})).toMatch(/no HTTPParser/);
    class Bare {}
    Object.assign(Bare, { REQUEST: 1, RESPONSE: 2 });
    expect(parserProblem(process.version, { HTTPParser: Bare, methods: common.methods })).toMatch(/lacks kOnMessageBegin, .*kOnExecute, initialize, .*getCurrentBuffer$/);
    expect(parserProblem(process.version, { HTTPParser: common.HTTPParser, methods: ['DELETE', 'POST'] })).toMatch(/method table/);
  });

  it('refuses a parser that reports messages differently (its self-test parses a request and a response)', () => {
    // The same parser with two callback slots swapped, as a changed Node would look.
    const Swapped = class extends (common.HTTPParser as unknown as new () => object) {};
    Object.assign(Swapped, { ...Object.fromEntries(Object.keys(common.HTTPParser).map((k) => [k, common.HTTPParser[k]])), kOnBody: common.HTTPParser['kOnMessageComplete'], kOnMessageComplete: common.HTTPParser['kOnBody'] });
    expect(parserProblem(process.version, { HTTPParser: Swapped, methods: common.methods })).toMatch(/reports messages differently/);
  });
});

describe('lb (the built bundle) on a Node.js it cannot use', () => {
  const main = join(workspaceRoot(), 'dist', 'apps', 'lb', 'main.js');
  const dir = mkdtempSync(join(tmpdir(), 'vita-lb-node-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts the bundle with `preload` run first (to fake what this Node looks like). */
  const start = (preload: string) => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx run lb:build\``);
    const file = join(dir, `preload-${Math.random().toString(36).slice(2)}.js`);
    writeFileSync(file, preload);
    return spawnSync(process.execPath, ['-r', file, main], { env: { PATH: process.env['PATH'], LB_BACKENDS: 'a=http://127.0.0.1:9' }, encoding: 'utf8', timeout: 20_000 });
  };

  it('stops at once with one line naming the supported versions', () => {
    const run = start("Object.defineProperty(process, 'version', { value: 'v28.0.0' });");
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('lb needs Node.js 20, 22, 24 or 26; this is Node.js v28.0.0: not a release line lb is tested on\n');
    expect(run.stdout).toBe('');
  });

  it('says what its parser lacks when a supported line has changed it', () => {
    const run = start("require('node:_http_common').HTTPParser.prototype.consume = undefined;");
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`lb needs Node.js 20, 22, 24 or 26; this is Node.js ${process.version}: its HTTPParser (node:_http_common) lacks consume\n`);
  });
});
