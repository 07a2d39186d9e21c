import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const BIND_INSTALL_COMMAND = 'apt-get install bind9 bind9-dnsutils';

/** A BIND program (named, nsupdate, dig) is missing; the message is one line naming the install command. */
export class BindNotInstalledError extends Error {
  constructor(what = 'named') {
    super(`${what} not found: install BIND 9 with \`${BIND_INSTALL_COMMAND}\` (as root)`);
    this.name = 'BindNotInstalledError';
  }
}

/** The BIND programs the harness runs. */
export interface BindPrograms {
  named: string;
  nsupdate: string;
  dig: string;
}

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

const OVERRIDES: Record<keyof BindPrograms, string> = { named: 'VITA_NAMED', nsupdate: 'VITA_NSUPDATE', dig: 'VITA_DIG' };

/** The absolute path of one BIND program: `VITA_NAMED` / `VITA_NSUPDATE` / `VITA_DIG` if set (used as-is), else PATH, /usr/sbin, /usr/bin. */
export function findBindProgram(program: keyof BindPrograms, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[OVERRIDES[program]];
  if (override !== undefined) {
    if (!isExecutable(override)) throw new BindNotInstalledError(`${program} (${OVERRIDES[program]}=${override})`);
    return override;
  }
  const dirs = [...(env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  const found = dirs.map((d) => join(d, program)).find(isExecutable);
  if (!found) throw new BindNotInstalledError(program);
  return found;
}

/** named's path; throws BindNotInstalledError when BIND is not installed. */
export function findNamed(env: NodeJS.ProcessEnv = process.env): string {
  return findBindProgram('named', env);
}

/** named, nsupdate and dig; throws BindNotInstalledError naming the first one missing. */
export function findBindPrograms(env: NodeJS.ProcessEnv = process.env): BindPrograms {
  return { named: findNamed(env), nsupdate: findBindProgram('nsupdate', env), dig: findBindProgram('dig', env) };
}
