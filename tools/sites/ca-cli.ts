import { parseArgs } from 'node:util';
import { CaInputError, formatCert, initCa, issueHostCert, showCerts } from '@vita/sites';

const USAGE = `usage: npm run ca -- init  --dir DIR [--name "Vita CA"] [--days N] [--force] [--permit-dns N,M] [--permit-ip 127.0.0.0/8,::1/128]
       npm run ca -- issue --dir DIR --name HOST [--ip A,B] [--dns N,M] [--days N]
       npm run ca -- show  --dir DIR [--name HOST]
init makes DIR/ca.key (mode 600) and DIR/ca.crt (--permit-*: it may only vouch for those names, and the names under them, and ranges); issue makes (or replaces) DIR/HOST.key and DIR/HOST.crt,
signed by that CA, valid for the given addresses and names; show prints subject, SAN, expiry, fingerprint.`;

const COMMANDS = ['init', 'issue', 'show'] as const;
type Command = (typeof COMMANDS)[number];

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CaInputError('--days', 'must be a whole number of days from 1 to 36500');
  return Number(value);
}

/** Runs one command; returns the exit code (0 done, 1 failed, 2 bad command line). */
export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    err(command ? `ca: unknown command "${command}"\n${USAGE}` : USAGE);
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: { dir: { type: 'string' }, name: { type: 'string' }, ip: { type: 'string' }, dns: { type: 'string' }, days: { type: 'string' }, force: { type: 'boolean' }, 'permit-dns': { type: 'string' }, 'permit-ip': { type: 'string' } },
    });
    const allowed: Record<Command, string[]> = { init: ['dir', 'name', 'days', 'force', 'permit-dns', 'permit-ip'], issue: ['dir', 'name', 'ip', 'dns', 'days'], show: ['dir', 'name'] };
    const extra = Object.keys(values).find((k) => !allowed[command as Command].includes(k));
    if (extra) throw new CaInputError(`--${extra}`, `is not an option of ${command}`);
    const dir = values.dir ?? '';
    if (command === 'init') {
      const permit = values['permit-dns'] || values['permit-ip'] ? { dns: list(values['permit-dns']), ipRanges: list(values['permit-ip']) } : undefined;
      const ca = await initCa({ dir, name: values.name, days: days(values.days), force: values.force, permit });
      out(`CA created: ${ca.key} (mode 600) and ${ca.crt}`);
    } else if (command === 'issue') {
      if (!values.name) throw new CaInputError('--name', 'is required (the host the certificate is for)');
      const pair = await issueHostCert({ dir, name: values.name, ips: list(values.ip), dns: list(values.dns), days: days(values.days) });
      out(`certificate issued: ${pair.key} (mode 600) and ${pair.crt}`);
      out(formatCert(showCerts({ dir, name: values.name })[0]));
    } else {
      out(showCerts({ dir, name: values.name }).map((c) => formatCert(c)).join('\n'));
    }
    return 0;
  } catch (e) {
    if (e instanceof CaInputError) {
      err(`ca ${command}: ${e.message}`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      err(`ca ${command}: ${(e as Error).message.split('\n')[0]}`);
      return 2;
    }
    err(`ca ${command}: ${(e as Error).message?.split('\n')[0] ?? String(e)}`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
