import type { JsonResume } from '@vita/contracts';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A JSON Resume theme: a package whose `render(resume)` gives the page's HTML (or a promise of it). */
export interface Theme {
  /** The package name, e.g. `jsonresume-theme-even`. */
  name: string;
  render(resume: JsonResume): Promise<string>;
}

/** A theme that cannot be used, with the reason in one line. */
export class ThemeError extends Error {}

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
  for (const key of keys) if (['node', 'import', 'default'].includes(key)) {
    const target = exportTarget(value[key]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/** Where a package is installed, searching node_modules from each of `from` upwards (the app's folder, the working directory). */
function packageDir(pkg: string, from: readonly string[]): string | undefined {
  for (const base of from) {
    const paths = createRequire(join(base, 'noop.js')).resolve.paths(pkg) ?? [];
    const found = paths.map((p) => join(p, pkg)).find((dir) => existsSync(join(dir, 'package.json')));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A dynamic import that no bundler rewrites: the theme is whatever the user installed, next to web. */
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

/** The `render` function of a loaded theme module (CommonJS `module.exports.render`, or an ES module's export). */
function renderOf(loaded: Record<string, unknown>): ((resume: JsonResume) => unknown) | undefined {
  const candidates = [loaded, loaded['default'] as Record<string, unknown> | undefined];
  for (const c of candidates) if (c && typeof c['render'] === 'function') return c['render'] as (resume: JsonResume) => unknown;
  return undefined;
}

/**
 * Loads an installed theme package. CommonJS themes are required; ES module themes (and CommonJS
 * ones whose dependencies are ES modules only) imported. Fails with a ThemeError naming the package
 * and what is wrong: not installed, no entry, no `render` function.
 */
export async function loadTheme(name: string, from: readonly string[] = [dirname(process.argv[1] ?? '.'), process.cwd()]): Promise<Theme> {
  const pkg = themePackage(name);
  const dir = packageDir(pkg, from);
  if (dir === undefined) throw new ThemeError(`theme ${pkg} is not installed (npm install ${pkg} next to web)`);
  let manifest: { main?: string; module?: string; type?: string; exports?: Exports };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (err) {
    throw new ThemeError(`theme ${pkg}: its package.json cannot be read (${(err as Error).message})`);
  }
  const entry = join(dir, (manifest.exports !== undefined ? exportTarget(manifest.exports) : undefined) ?? manifest.main ?? 'index.js');
  const esm = entry.endsWith('.mjs') || (manifest.type === 'module' && !entry.endsWith('.cjs'));
  let loaded: Record<string, unknown>;
  try {
    loaded = esm ? await importModule(pathToFileURL(entry).href) : (createRequire(entry)(entry) as Record<string, unknown>);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A CommonJS entry that requires an ES module only package: the module system can still import it.
    if (!esm && (code === 'ERR_REQUIRE_ESM' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'ERR_REQUIRE_ASYNC_MODULE')) {
      loaded = await importModule(pathToFileURL(entry).href).catch((again: Error) => {
        throw new ThemeError(`theme ${pkg} cannot be loaded: ${again.message.split('\n')[0]}`);
      });
    } else throw new ThemeError(`theme ${pkg} cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
  const render = renderOf(loaded);
  if (render === undefined) throw new ThemeError(`theme ${pkg} has no render(resume) function`);
  return {
    name: pkg,
    render: async (resume) => {
      // A theme may change the object it is given (some fill in defaults): it gets its own copy.
      const html: unknown = await render(structuredClone(resume));
      if (typeof html !== 'string' || !/<(html|body|head|!doctype)\b/i.test(html)) {
        throw new ThemeError(`theme ${pkg} returned ${typeof html === 'string' ? 'a string that is not an HTML page' : `no HTML (${html === null ? 'null' : typeof html})`}`);
      }
      return html;
    },
  };
}
