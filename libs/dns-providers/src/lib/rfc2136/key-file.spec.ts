import { execFileSync } from 'node:child_process';
import { parseTsigKeyFile } from './key-file';

const keygen = (alg: string, name: string) => execFileSync('tsig-keygen', ['-a', alg, name], { encoding: 'utf8' });
const secretOf = (text: string) => (/secret "([^"]+)"/.exec(text) as RegExpExecArray)[1];
const F = '/etc/vita/dns.key';

/** The error parseTsigKeyFile throws, checked to be one line that does not contain `secret`. */
function errorOf(text: string, name?: string, secret?: string): string {
  let message = '';
  try {
    parseTsigKeyFile(text, F, name);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).not.toBe('');
  expect(message).not.toContain('\n');
  if (secret) expect(message).not.toContain(secret);
  return message;
}

describe('parseTsigKeyFile (BIND key syntax)', () => {
  it('reads what tsig-keygen writes: name, hmac-sha256, the 32-byte secret', () => {
    const text = keygen('hmac-sha256', 'vita-update');
    const key = parseTsigKeyFile(text, F);
    expect(key.name).toBe('vita-update');
    expect(key.algorithm).toBe('hmac-sha256');
    expect(key.secret).toEqual(Buffer.from(secretOf(text), 'base64'));
    expect(key.secret).toHaveLength(32);
  });

  it('chooses a key by name among several; comments of all three kinds and odd spacing are fine', () => {
    const a = keygen('hmac-sha256', 'a-key');
    const b = keygen('hmac-sha256', 'b-key');
    const text = `# keys\n${a}\n/* the second\n one */\n// b:\n${b.replace(/\n\t/g, ' ')}`;
    expect(parseTsigKeyFile(text, F, 'B-Key.').secret).toEqual(Buffer.from(secretOf(b), 'base64'));
    expect(parseTsigKeyFile(text, F, 'a-key').name).toBe('a-key');
  });

  it('several keys and no name chosen: the line of the second key, both names', () => {
    const text = keygen('hmac-sha256', 'a-key') + keygen('hmac-sha256', 'b-key');
    expect(errorOf(text)).toBe(`${F}:5: several keys ("a-key", "b-key"): choose one by name`);
    expect(errorOf(text, 'c-key')).toBe(`${F}:1: no key named "c-key" (the file has "a-key", "b-key")`);
  });

  it('no algorithm; another algorithm (as tsig-keygen writes hmac-sha512)', () => {
    const s = Buffer.alloc(32, 3).toString('base64');
    expect(errorOf(`key "k" {\n\tsecret "${s}";\n};\n`, undefined, s)).toBe(`${F}:1: key "k" has no algorithm`);
    const other = keygen('hmac-sha512', 'k5');
    expect(errorOf(other, undefined, secretOf(other))).toBe(`${F}:2: key "k5" uses hmac-sha512; only hmac-sha256 is supported`);
  });

  it('no secret; a secret that is not base64 (the line named, the value never echoed)', () => {
    expect(errorOf('key "k" { algorithm hmac-sha256; };')).toBe(`${F}:1: key "k" has no secret`);
    const junk = 'not*base64!secret-value';
    expect(errorOf(`key "k" {\n algorithm hmac-sha256;\n\n secret "${junk}";\n};`, undefined, junk)).toBe(`${F}:4: the secret of key "k" is not base64`);
    const unpadded = Buffer.alloc(31, 1).toString('base64').replace(/=+$/, '');
    expect(errorOf(`key "k" { algorithm hmac-sha256; secret "${unpadded}"; };`, undefined, unpadded)).toMatch(/is not base64$/);
  });

  it('syntax errors name the line and never the text of a token that could be the secret', () => {
    const s = Buffer.alloc(32, 4).toString('base64').replace(/[+/=]/g, 'A');
    expect(errorOf(`key "k" {\n algorithm hmac-sha256;\n secret "${s}"\n};`, undefined, s)).toBe(`${F}:4: expected ";" after the secret of key "k"`);
    expect(errorOf(`key "k" {\n algorithm hmac-sha256;\n secret "${s};\n};`, undefined, s)).toBe(`${F}:3: unterminated string`);
    expect(errorOf(`key "k" {\n ${s};\n};`, undefined, s)).toBe(`${F}:2: key "k": unknown field (only algorithm and secret)`);
    expect(errorOf(`key "k" {\n secrets "${s}";\n};`, undefined, s)).toBe(`${F}:2: key "k": unknown field "secrets" (only algorithm and secret)`);
    expect(errorOf(`${s} "k" {};`, undefined, s)).toMatch(new RegExp(`^${F}:1: expected a key statement .*found something else$`));
    expect(errorOf(`key "k" { algorithm hmac-sha256; secret "${s}"; }`, undefined, s)).toBe(`${F}:1: the file ends where ";" after the "}" of key "k" was expected`);
    expect(errorOf(`key "k" { algorithm hmac-sha256; algorithm hmac-sha256; };`)).toBe(`${F}:1: key "k" has a second algorithm`);
    expect(errorOf('/* open')).toBe(`${F}:1: unterminated comment`);
    expect(errorOf('key "bad name" { };')).toBe(`${F}:1: the key name is not a valid DNS name`);
  });

  it('an empty file', () => {
    expect(errorOf('# nothing\n')).toMatch(new RegExp(`^${F}:1: no key statement`));
  });
});
