import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One long-running process of a role, as systemd runs it. */
export interface ServiceSpec {
  /** Unit name without `.service` (`vita-api-3100`). */
  name: string;
  description: string;
  /** Absolute program path first. */
  command: string[];
  /** Settings that are not secret: written into the unit. */
  env: Record<string, string>;
  /** Secret settings: written to `<envDir>/<name>.env` (mode 600) and read with EnvironmentFile=, never into the unit. */
  secrets: Record<string, string>;
  /** Units of this role it starts after (and needs). */
  after: string[];
}

const UNIT_NAME = /^[A-Za-z0-9@_.-]{1,200}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** A word of ExecStart=: quoted, with systemd's specifiers (%) and variables ($) taken literally. */
const execWord = (word: string): string => `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
/** One Environment= assignment, quoted; % is a specifier there too. */
const envAssignment = (name: string, value: string): string => `"${name}=${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;

function check(spec: ServiceSpec): void {
  if (!UNIT_NAME.test(spec.name)) throw new Error(`unit name ${JSON.stringify(spec.name)} has characters systemd does not allow`);
  if (!spec.command[0]?.startsWith('/')) throw new Error(`${spec.name}: the program must be an absolute path`);
  for (const [name, value] of [...Object.entries(spec.env), ...Object.entries(spec.secrets)]) {
    if (!ENV_NAME.test(name)) throw new Error(`${spec.name}: ${name} is not an environment variable name`);
    if (/[\n\r\0]/.test(value)) throw new Error(`${spec.name}: ${name} holds a line break or NUL, which a unit cannot carry`);
  }
}

/** The text of `<spec.name>.service`: restarted on failure, ordered after what it needs, logging to the journal. */
export function renderService(spec: ServiceSpec, target: string, envDir: string): string {
  check(spec);
  const needs = spec.after.map((u) => `${u}.service`).join(' ');
  return [
    '[Unit]',
    `Description=${spec.description}`,
    `PartOf=${target}.target`,
    ...(needs ? [`After=${needs}`, `Requires=${needs}`] : []),
    'StartLimitIntervalSec=60',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${spec.command.map(execWord).join(' ')}`,
    ...Object.entries(spec.env).map(([k, v]) => `Environment=${envAssignment(k, v)}`),
    ...(Object.keys(spec.secrets).length > 0 ? [`EnvironmentFile=${join(envDir, `${spec.name}.env`).replace(/%/g, '%%')}`] : []),
    'Restart=on-failure',
    'RestartSec=2',
    'TimeoutStopSec=30',
    'KillSignal=SIGTERM',
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${spec.name}`,
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    '',
    '[Install]',
    `WantedBy=${target}.target`,
    '',
  ].join('\n');
}

/** The role's target: starting it starts every service; `systemctl enable <target>.target` starts it at boot. */
export function renderTarget(target: string, description: string, specs: ServiceSpec[]): string {
  return [
    '[Unit]',
    `Description=${description}`,
    `Wants=${specs.map((s) => `${s.name}.service`).join(' ')}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** What `writeUnits` wrote. */
export interface WrittenUnits {
  units: string[];
  envFiles: string[];
}

/** Writes each file whole (temp file, then rename), so a crash leaves the old file or the new one, never half. */
function writeWhole(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/**
 * Writes a role's units into `unitDir` (e.g. /etc/systemd/system) and each service's secrets into
 * `envDir` (mode 700, files 600). Safe to re-run: every file is replaced whole.
 */
export function writeUnits(unitDir: string, envDir: string, target: string, description: string, specs: ServiceSpec[]): WrittenUnits {
  const rendered = specs.map((s) => ({ spec: s, text: renderService(s, target, envDir) }));
  mkdirSync(unitDir, { recursive: true });
  mkdirSync(envDir, { recursive: true, mode: 0o700 });
  chmodSync(envDir, 0o700);
  const envFiles: string[] = [];
  for (const { spec } of rendered) {
    if (Object.keys(spec.secrets).length === 0) continue;
    const file = join(envDir, `${spec.name}.env`);
    writeWhole(file, Object.entries(spec.secrets).map(([k, v]) => `${k}=${v}\n`).join(''), 0o600);
    envFiles.push(file);
  }
  const units: string[] = [];
  for (const { spec, text } of rendered) {
    const file = join(unitDir, `${spec.name}.service`);
    writeWhole(file, text, 0o644);
    units.push(file);
  }
  const targetFile = join(unitDir, `${target}.target`);
  writeWhole(targetFile, renderTarget(target, description, specs), 0o644);
  units.push(targetFile);
  return { units, envFiles };
}
