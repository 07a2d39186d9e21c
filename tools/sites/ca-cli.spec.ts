import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './ca-cli';

describe('ca command', () => {
  const root = mkdtempSync(join(tmpdir(), 'vita-ca-cli-'));
  const dir = join(root, 'ca');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('init, issue and show: a verifiable host certificate, keys mode 600', async () => {
    expect(await run('init', '--dir', dir, '--name', 'Vita Test CA')).toMatchObject({ code: 0, err: '' });
    const issued = await run('issue', '--dir', dir, '--name', 'db1', '--ip', '127.0.0.1,127.0.0.2', '--dns', 'db1.example');
    expect(issued).toMatchObject({ code: 0, err: '' });
    expect(issued.out).toContain('SAN:         IP Address:127.0.0.1, IP Address:127.0.0.2, DNS:db1.example');
    for (const key of ['ca.key', 'db1.key']) expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'db1.crt')], { encoding: 'utf8' })).toMatch(/: OK\n$/);
    const shown = await run('show', '--dir', dir);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/subject: {5}CN=Vita Test CA[\s\S]*subject: {5}CN=db1[\s\S]*not after: .*in \d+ days[\s\S]*sha256: {6}([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  });

  it('init --permit-dns/--permit-ip: a CA that vouches for those names and ranges only', async () => {
    const limited = join(root, 'limited');
    expect(await run('init', '--dir', limited, '--permit-dns', 'localhost', '--permit-ip', '127.0.0.0/8,::1/128')).toMatchObject({ code: 0, err: '' });
    await run('issue', '--dir', limited, '--name', 'here', '--ip', '127.0.0.1', '--dns', 'localhost');
    await run('issue', '--dir', limited, '--name', 'there', '--dns', 'example.org');
    const verify = (name: string) => spawnSync('openssl', ['verify', '-CAfile', join(limited, 'ca.crt'), join(limited, `${name}.crt`)], { encoding: 'utf8' });
    expect(verify('here')).toMatchObject({ status: 0 });
    expect(verify('there')).toMatchObject({ status: 2, stderr: expect.stringContaining('permitted subtree violation') });
    expect(await run('init', '--dir', join(root, 'bad'), '--permit-ip', '127.0.0.1/8')).toMatchObject({ code: 2, err: expect.stringMatching(/^ca init: --permit-ip: "127\.0\.0\.1\/8" has bits set past its prefix/) });
  });

  it.each([
    [['init', '--dir', 'DIR'], /^ca init: --dir: .* already holds a CA/],
    [['issue', '--name', 'x', '--ip', '127.0.0.1'], /^ca issue: --dir: is required$/],
    [['issue', '--dir', 'DIR', '--ip', '127.0.0.1'], /^ca issue: --name: is required/],
    [['issue', '--dir', 'DIR', '--name', 'x', '--ip', '10.0.0.256'], /^ca issue: --ip: "10.0.0.256" is not an IP address$/],
    [['issue', '--dir', 'DIR', '--name', 'x y', '--ip', '127.0.0.1'], /^ca issue: --name: "x y" must be/],
    [['issue', '--dir', 'DIR', '--name', 'x', '--ip', '127.0.0.1', '--days', 'ten'], /^ca issue: --days: must be a whole number/],
    [['issue', '--dir', 'NOCA', '--name', 'x', '--ip', '127.0.0.1'], /^ca issue: --dir: .* holds no CA/],
    [['issue', '--dir', 'DIR', '--name', 'x', '--force'], /^ca issue: --force: is not an option of issue$/],
    [['show', '--dir', 'DIR', '--colour'], /^ca show: Unknown option '--colour'/],
  ])('%p: one line naming the flag, exit 2', async (argv, message) => {
    const result = await run(...argv.map((a) => (a === 'DIR' ? dir : a === 'NOCA' ? join(root, 'none') : a)));
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err.split('\n')).toHaveLength(1);
  });

  it('an unknown command prints the usage, exit 2', async () => {
    expect(await run('sign')).toMatchObject({ code: 2, err: expect.stringMatching(/^ca: unknown command "sign"\nusage: npm run ca -- init/) });
  });
});
