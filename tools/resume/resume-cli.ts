import { formatViolation, validateResume, ResumeViolation } from '@vita/contracts';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnvFile } from '@vita/runtime';

const USAGE = `usage: npm run resume -- import <file.json>   load a JSON Resume document into Vita (through the api, to the primary)
       npm run resume -- export <file.json|->  save the current document (- for standard output)
options: --api <url>  the api to talk to (default $VITA_API_URL or http://127.0.0.1:3100)
the admin token comes from $VITA_ADMIN_TOKEN, else from .vita/secrets.env`;

export class CliError extends Error {}

export interface CliContext {
  apiUrl: string;
  token?: string;
  out: (line: string) => void;
}

/** Parses JSON text; a syntax error names the line and column. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /position (\d+)/.exec(message);
    if (!at) throw new CliError(`${file}: not valid JSON: ${message}`);
    const before = text.slice(0, Number(at[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new CliError(`${file}:${line}:${column}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

function violationsError(file: string, violations: ResumeViolation[]): CliError {
  return new CliError([`${file}: ${violations.length} error(s), nothing was imported:`, ...violations.map((v) => `  ${formatViolation(v)}`)].join('\n'));
}

/** Validates locally first (nothing is sent on error), then replaces the stored document. */
export async function importResume(file: string, ctx: CliContext): Promise<number> {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  const doc = parseJson(readFileSync(file, 'utf8'), file);
  const violations = validateResume(doc);
  if (violations.length > 0) throw violationsError(file, violations);
  if (!ctx.token) throw new CliError('no admin token: set VITA_ADMIN_TOKEN or run `npm start` once to create .vita/secrets.env');
  const res = await call(ctx, 'PUT', JSON.stringify(doc));
  const body = (await res.json().catch(() => ({}))) as { version?: number; message?: string; violations?: ResumeViolation[] };
  if (res.status === 400 && body.violations) throw violationsError(file, body.violations);
  if (!res.ok) throw new CliError(`import refused by the api (${res.status}): ${body.message ?? res.statusText}`);
  ctx.out(`imported ${file}: the résumé is now at version ${body.version}`);
  return body.version ?? 0;
}

/** Saves the current document; the file is replaced whole or not at all. */
export async function exportResume(file: string, ctx: CliContext): Promise<void> {
  const res = await call(ctx, 'GET');
  if (!res.ok) throw new CliError(`export failed (${res.status}): ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? res.statusText}`);
  const text = `${JSON.stringify(await res.json(), null, 2)}\n`;
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(resolve(file)), `.${Date.now()}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  ctx.out(`exported version ${res.headers.get('etag') ?? '?'} to ${file}`);
}

async function call(ctx: CliContext, method: 'GET' | 'PUT', body?: string): Promise<Response> {
  const url = `${ctx.apiUrl.replace(/\/$/, '')}/api/v1/resume`;
  try {
    return await fetch(url, {
      method,
      body,
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', ...(method === 'PUT' ? { authorization: `Bearer ${ctx.token}` } : {}) },
    });
  } catch (err) {
    throw new CliError(`cannot reach the api at ${ctx.apiUrl}: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`);
  }
}

function tokenFrom(root: string): string | undefined {
  if (process.env['VITA_ADMIN_TOKEN']) return process.env['VITA_ADMIN_TOKEN'];
  const file = join(root, '.vita', 'secrets.env');
  return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8'), file)['VITA_ADMIN_TOKEN'] : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const apiAt = args.indexOf('--api');
  const apiUrl = apiAt >= 0 ? args.splice(apiAt, 2)[1] : (process.env['VITA_API_URL'] ?? 'http://127.0.0.1:3100');
  const [command, file, ...rest] = args;
  if (!apiUrl || !file || rest.length > 0 || (command !== 'import' && command !== 'export')) {
    console.error(USAGE);
    return 2;
  }
  const ctx: CliContext = { apiUrl, token: tokenFrom(resolve(__dirname, '..', '..')), out: (l) => console.log(l) };
  try {
    if (command === 'import') await importResume(file, ctx);
    else await exportResume(file, ctx);
    return 0;
  } catch (err) {
    console.error(err instanceof CliError ? err.message : err);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
