import type { Connection } from 'mariadb';

/** A credential passed as a statement parameter: sent to the server, shown to nobody. */
export class Secret {
  constructor(readonly value: string) {}
  toJSON(): string {
    return '<redacted>';
  }
}

export type Param = string | number | bigint | boolean | null | Buffer | Secret;

/** One SQL statement with `?` placeholders. */
export interface Stmt {
  sql: string;
  params?: Param[];
  /** Shown instead of the rendered statement (e.g. a summary of a multi-row insert). */
  display?: string;
}

export const stmt = (sql: string, ...params: Param[]): Stmt => (params.length ? { sql, params } : { sql });

/** Backtick-quoted identifier. */
export const ident = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
export const qualified = (schema: string, table: string): string => `${ident(schema)}.${ident(table)}`;

const literal = (v: Param): string => {
  if (v === null) return 'NULL';
  if (v instanceof Secret) return "'<redacted>'";
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  if (typeof v === 'boolean') return v ? 'ON' : 'OFF';
  if (typeof v !== 'string') return String(v);
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
};

/** The statement as an operator would type it, credentials redacted. */
export function render(s: Stmt): string {
  if (s.display) return s.display;
  let i = 0;
  return s.sql.replace(/\?/g, () => literal(s.params?.[i++] ?? null));
}

/** A failed statement: names the statement (redacted) and the server's error, never a credential. */
export class SqlError extends Error {
  constructor(
    readonly errno: number | undefined,
    readonly statement: string,
    detail: string,
  ) {
    super(`${statement} failed: ${detail}`);
    this.name = 'SqlError';
  }
}

interface DriverError {
  errno?: number;
  text?: string;
  code?: string;
  message?: string;
}

/** Short, credential-free description of a driver error (server text, or the driver's first line without the SQL). */
export function describeError(err: unknown): string {
  const e = (err ?? {}) as DriverError;
  if (e.text) return e.errno ? `${e.text} (${e.errno})` : e.text;
  const first = String(e.message ?? err).split('\n')[0];
  return first.replace(/\s*\(conn:[^)]*\)/, '').trim() || String(e.code ?? 'error');
}

/** Runs one statement; a failure names the statement and withholds the server text when it carries a secret. */
export async function run<T = unknown>(conn: Connection, s: Stmt): Promise<T> {
  const params = s.params?.map((p) => (p instanceof Secret ? p.value : p));
  try {
    return await conn.query<T>(s.sql, params);
  } catch (err) {
    const secret = s.params?.some((p) => p instanceof Secret);
    const e = err as DriverError;
    throw new SqlError(e.errno, render(s), secret ? `error ${e.errno ?? e.code ?? ''} (details withheld: the statement carries a credential)` : describeError(err));
  }
}

/** First row of a query (or undefined). */
export async function first<T>(conn: Connection, s: Stmt): Promise<T | undefined> {
  return (await run<T[]>(conn, s))[0];
}
