import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import { IsArray, IsOptional, IsString, Matches, ValidateNested, validateSync, type ValidationError } from 'class-validator';
import { EnvError, HOST_PORT, parseHostPort } from '@vita/runtime';
import { parse as parseYaml } from 'yaml';

/** One MariaDB server repl-admin watches. */
export interface ServerConfig {
  name: string;
  host: string;
  port: number;
  /** Content-node label (null: none). */
  node: string | null;
  role: 'primary' | 'replica';
}

export interface Servers {
  primary: ServerConfig;
  replicas: ServerConfig[];
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ENTRY = '[A-Za-z0-9_.-]{1,64}=[A-Za-z0-9.-]+:\\d{1,5}(@[A-Za-z0-9_.-]{1,64})?';
export const SERVERS_PATTERN = new RegExp(`^${ENTRY}(\\s*,\\s*${ENTRY})*$`);

export const address = (s: Pick<ServerConfig, 'host' | 'port'>): string => `${s.host}:${s.port}`;

class ServerEntry {
  @IsString() @Matches(NAME, { message: 'name must be letters, digits, _ . -' }) declare name: string;
  @IsString() @Matches(HOST_PORT, { message: 'address must be host:port' }) declare address: string;
  @IsOptional() @IsString() @Matches(NAME, { message: 'node must be letters, digits, _ . -' }) declare node?: string;
}

class ServersFile {
  @ValidateNested() @Type(() => ServerEntry) declare primary: ServerEntry;
  @IsArray() @ValidateNested({ each: true }) @Type(() => ServerEntry) declare replicas: ServerEntry[];
}

const firstProblem = (errors: ValidationError[], path = ''): string => {
  const e = errors[0];
  const at = `${path}${/^\d+$/.test(e.property) ? `[${e.property}]` : `${path ? '.' : ''}${e.property}`}`;
  const own = Object.values(e.constraints ?? {}).pop();
  return own ? `${at}: ${own}` : firstProblem(e.children ?? [], at);
};

function toServers(primary: ServerEntry, replicas: ServerEntry[], variable: string): Servers {
  const make = (e: ServerEntry, role: ServerConfig['role']): ServerConfig => ({ name: e.name, ...parseHostPort(e.address), node: e.node ?? null, role });
  const servers = { primary: make(primary, 'primary'), replicas: replicas.map((r) => make(r, 'replica')) };
  const names = [servers.primary, ...servers.replicas].map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new EnvError(`invalid environment: ${variable} names server "${dup}" twice`);
  return servers;
}

/** `primary=10.0.0.1:3306,replica1=10.0.0.2:3306@node-a`: the first entry is the primary. */
export function parseServerList(value: string): Servers {
  const [primary, ...replicas] = value.split(',').map((raw): ServerEntry => {
    const m = /^([^=]+)=([^@]+)(?:@(.+))?$/.exec(raw.trim()) as RegExpExecArray;
    return { name: m[1], address: m[2], ...(m[3] ? { node: m[3] } : {}) };
  });
  return toServers(primary, replicas, 'REPL_SERVERS');
}

/** The YAML (or JSON) servers file; errors name the file's entry, never a value. */
export function loadServersFile(file: string): Servers {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EnvError(`invalid environment: REPL_SERVERS_FILE cannot be read as YAML or JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const doc = plainToInstance(ServersFile, raw ?? {});
  const errors = validateSync(doc);
  if (errors.length > 0) throw new EnvError(`invalid environment: REPL_SERVERS_FILE ${firstProblem(errors)}`);
  return toServers(doc.primary, doc.replicas, 'REPL_SERVERS_FILE');
}
