import type { JsonResume } from '@vita/contracts';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** A JSON Resume theme: a package whose `render(resume)` gives the page's HTML (or a promise of it). */
export interface Theme {
  /** The package name, e.g. `jsonresume-theme-even`. */
  name: string;
  render(resume: JsonResume): Promise<string>;
}

/** A theme that cannot be used, with the reason in one line. */
export class ThemeError extends Error {}

/** How long one rendering may take; past it the rendering is stopped (its thread terminated). */
export const RENDER_TIMEOUT_MS = 10_000;

/** The most HTML a rendering may return. */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

const PACKAGE = /^(@[a-z0-9][a-z0-9._~-]*\/)?jsonresume-theme-[a-z0-9][a-z0-9._~-]*$/;
const SHORT = /^[a-z0-9][a-z0-9._~-]*$/;

/**
 * Pure: the package a theme name means, as resume-cli reads it: `even` is `jsonresume-theme-even`;
 * a full name (`jsonresume-theme-even`, `@scope/jsonresume-theme-x`) stays. Anything else is refused,
 * so a document's `meta.theme` can only ever name a theme package, never load another module.
 */
export function themePackage(name: string): string {
  const trimmed = name.trim();
  if (PACKAGE.test(trimmed)) return trimmed;
  if (SHORT.test(trimmed) && !trimmed.startsWith('jsonresume-theme')) return `jsonresume-theme-${trimmed}`;
  throw new ThemeError(`"${trimmed.slice(0, 80)}" is not a JSON Resume theme name (jsonresume-theme-<name>, @scope/jsonresume-theme-<name>, or <name>)`);
}

type Exports = string | null | { [key: string]: Exports } | Exports[];

/** The file an `exports` value leads to under Node's conditions for `import` (first match wins, in the package's order). */
function exportTarget(value: Exports): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(exportTarget).find((v) => v !== undefined);
  if (value === null || typeof value !== 'object') return undefined;
  const keys = Object.keys(value);
  // A map of subpaths: the package's main entry is ".".
  if (keys.some((k) => k.startsWith('.'))) return value['.'] === undefined ? undefined : exportTarget(value['.']);
  for (const key of keys) {
    if (!['node', 'import', 'default'].includes(key)) continue;
    const target = exportTarget(value[key]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * Where web looks for themes: the `node_modules` folders web's own dependencies come from (its
 * application folder and each above it, as Node resolves them), then the working directory's. Not
 * Node's global folders, and not the folders above the working directory.
 */
export function themeFolders(app = dirname(process.argv[1] ?? '.'), cwd = process.cwd()): string[] {
  const folders: string[] = [];
  for (let dir = app; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') folders.push(join(dir, 'node_modules'));
    if (dirname(dir) === dir) break;
  }
  return [...new Set([...folders, join(cwd, 'node_modules')])];
}

/** A theme package found on disk: its entry file, and whether that is an ES module. */
interface Located {
  pkg: string;
  entry: string;
  esm: boolean;
}

function locate(name: string, folders: readonly string[]): Located {
  const pkg = themePackage(name);
  const dir = folders.map((f) => join(f, pkg)).find((d) => existsSync(join(d, 'package.json')));
  if (dir === undefined) throw new ThemeError(`theme ${pkg} is not installed (npm install ${pkg} next to web)`);
  let manifest: { main?: string; type?: string; exports?: Exports };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (err) {
    throw new ThemeError(`theme ${pkg}: its package.json cannot be read (${(err as Error).message})`);
  }
  const entry = join(dir, (manifest.exports !== undefined ? exportTarget(manifest.exports) : undefined) ?? manifest.main ?? 'index.js');
  if (!existsSync(entry)) throw new ThemeError(`theme ${pkg}: its entry ${entry} is missing`);
  return { pkg, entry, esm: entry.endsWith('.mjs') || (manifest.type === 'module' && !entry.endsWith('.cjs')) };
}

/**
 * The thread a rendering runs in: it loads the theme (required, or imported when it is an ES module
 * or needs one), calls `render` on the document and sends back what it returned. A theme that hangs,
 * loops, throws later, leaves a rejection unhandled or calls process.exit ends its thread, never web.
 */
const RENDER_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { entry, url, esm, resume } = workerData;
const load = async () => {
  if (esm) return import(url);
  try {
    return createRequire(entry)(entry);
  } catch (err) {
    if (['ERR_REQUIRE_ESM', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_REQUIRE_ASYNC_MODULE'].includes(err && err.code)) return import(url);
    throw err;
  }
};
const describe = (err) => String((err && err.message) || err).split('\\n')[0].slice(0, 300);
// An error the theme leaves behind (a rejection nobody handles, a throw in a timer) is reported after
// whatever was sent before it, in order, instead of ending the thread before its page is read.
for (const event of ['uncaughtException', 'unhandledRejection']) process.on(event, (err) => parentPort.postMessage({ stray: describe(err) }));
(async () => {
  let loaded;
  try {
    loaded = await load();
  } catch (err) {
    return parentPort.postMessage({ failed: 'load', message: describe(err) });
  }
  const render = [loaded, loaded && loaded.default].map((m) => m && m.render).find((f) => typeof f === 'function');
  if (!render) return parentPort.postMessage({ failed: 'render-missing' });
  try {
    const html = await render(resume);
    parentPort.postMessage(typeof html === 'string' ? { html } : { failed: 'no-html', kind: html === null ? 'null' : typeof html });
  } catch (err) {
    parentPort.postMessage({ failed: 'threw', message: describe(err) });
  }
})();
`;

type ThreadAnswer = { html: string } | { failed: 'load' | 'threw'; message: string } | { failed: 'render-missing' } | { failed: 'no-html'; kind: string } | { stray: string };

/** One rendering in its own thread, bounded in time, memory and size. */
function renderInThread(theme: Located, resume: JsonResume, timeoutMs: number): Promise<string> {
  const { pkg } = theme;
  return new Promise((resolve, reject) => {
    const worker = new Worker(RENDER_THREAD, {
      eval: true,
      workerData: { entry: theme.entry, url: pathToFileURL(theme.entry).href, esm: theme.esm, resume },
      // What a theme prints is not web's log.
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    worker.stdout.resume();
    worker.stderr.resume();
    let settled = false;
    const done = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => done(() => reject(new ThemeError(`theme ${pkg} did not finish rendering within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    let stray: string | undefined;
    worker.on('message', (answer: ThreadAnswer) => {
      // A stray error before the page: kept, and reported if no page comes.
      if ('stray' in answer) return void (stray ??= answer.stray);
      done(() => {
        if ('html' in answer) {
          if (Buffer.byteLength(answer.html) > MAX_PAGE_BYTES) return reject(new ThemeError(`theme ${pkg} returned a page over ${MAX_PAGE_BYTES / 1048576} MiB`));
          if (!/<(html|body|head|!doctype)\b/i.test(answer.html)) return reject(new ThemeError(`theme ${pkg} returned a string that is not an HTML page`));
          return resolve(answer.html);
        }
        if (answer.failed === 'load') return reject(new ThemeError(`theme ${pkg} cannot be loaded: ${answer.message}`));
        if (answer.failed === 'render-missing') return reject(new ThemeError(`theme ${pkg} has no render(resume) function`));
        if (answer.failed === 'no-html') return reject(new ThemeError(`theme ${pkg} returned no HTML (${answer.kind})`));
        reject(new ThemeError(`theme ${pkg} threw: ${answer.message}`));
      });
    });
    worker.once('error', (err) => done(() => reject(new ThemeError(`theme ${pkg} failed while rendering: ${String(err.message).split('\n')[0].slice(0, 300)}`))));
    worker.once('exit', (code) =>
      done(() => {
        if (stray !== undefined) return reject(new ThemeError(`theme ${pkg} failed while rendering: ${stray}`));
        reject(new ThemeError(code === 0 ? `theme ${pkg} gave no page (its render's promise never settled)` : `theme ${pkg} ended its rendering (exit code ${code}) without a page`));
      }),
    );
  });
}

/**
 * An installed theme package, found in `folders` (by default `themeFolders()`). Each rendering runs
 * in a thread of its own, on a copy of the document, within RENDER_TIMEOUT_MS: a theme that cannot be
 * loaded, has no `render`, throws, returns no HTML page, or takes too long fails that rendering with
 * a ThemeError naming the package, and web goes on.
 */
export function loadTheme(name: string, folders: readonly string[] = themeFolders(), timeoutMs = RENDER_TIMEOUT_MS): Theme {
  const located = locate(name, folders);
  return { name: located.pkg, render: (resume) => renderInThread(located, resume, timeoutMs) };
}
