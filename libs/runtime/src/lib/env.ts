import { plainToInstance, Transform } from 'class-transformer';
import { validateSync } from 'class-validator';

/** `host:port`. */
export interface HostPort {
  host: string;
  port: number;
}

export const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
export const HOST_PORT_LIST = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Surrounding blanks removed from a string setting. */
export const Trimmed = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
/** Digits become a number; anything else stays as given, so the integer check names the problem. */
export const Integer = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));
/** A decimal number (`0.25`, `.5`, `1`) becomes a number; anything else stays as given, for the number check to name. */
export const Decimal = () => Transform(({ value }) => (typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value) : value));

/** A bad or missing setting; its message is one line, fit to print as the process's last words. */
export class EnvError extends Error {}

/**
 * Validates an environment against a settings class (class-validator). The error is one line naming
 * each variable and the rule it breaks, never the value (it may be a secret).
 */
export function loadEnv<T extends object>(cls: new () => T, source: Record<string, string | undefined>): T {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(cls, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const variable = e.property;
      // The first-written decorator (the basic type check) is the last constraint class-validator lists.
      const rule = Object.values(e.constraints ?? {}).pop() ?? 'is invalid';
      const why = rule.startsWith(variable) ? rule.slice(variable.length).trim() : rule;
      return `${variable} ${why}${variable in present ? '' : ' (it is not set)'}`;
    });
    throw new EnvError(`invalid environment: ${lines.join('; ')}`);
  }
  return env;
}

export function parseHostPort(value: string): HostPort {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

export const parseHostPortList = (value: string): HostPort[] => value.split(',').map((v) => parseHostPort(v.trim()));

/**
 * Runs a command's or service's main: a failure ends the process with exit code 1 and one line,
 * `<name>: <message>` (a bad setting, an unreachable server), never a stack trace.
 */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    const message = (err as { message?: unknown } | null)?.message;
    console.error(`${name}: ${typeof message === 'string' ? message.split('\n')[0] : String(err)}`);
    process.exit(1);
  });
}
