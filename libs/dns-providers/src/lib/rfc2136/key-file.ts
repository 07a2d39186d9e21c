/**
 * BIND's key-file syntax, as `tsig-keygen` writes it:
 *   key "name" { algorithm hmac-sha256; secret "base64"; };
 * Errors are `file:line: problem`; none ever contains the secret (or text that could be part of it).
 */
import { encodeName } from './wire';
import { TSIG_ALGORITHM, TsigKey } from './tsig';

interface Token {
  kind: 'word' | 'string' | '{' | '}' | ';';
  text: string;
  line: number;
}

/** Tokens of named.conf syntax: words, quoted strings, braces and semicolons; `#`, `//` and C comments skipped. */
function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`${file}:${line}: unterminated comment`);
      line += (text.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 2;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new Error(`${file}:${line}: unterminated string`);
      tokens.push({ kind: 'string', text: text.slice(i + 1, end), line });
      line += (text.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 1;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ kind: c, text: c, line });
      i++;
    } else {
      const m = /^[^\s{};"#]+/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: m[0], line });
      i += m[0].length;
    }
  }
  return tokens;
}

/** A word safe to repeat in an error: a lower-case identifier, which a base64 secret practically never is. */
const quotable = (t: Token | undefined): string => (t && t.kind === 'word' && /^[a-z][a-z0-9-]{0,31}$/.test(t.text) ? ` "${t.text}"` : '');
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const normName = (n: string) => n.toLowerCase().replace(/\.$/, '');

interface ParsedKey {
  name: string;
  line: number;
  algorithm?: { value: string; line: number };
  secret?: { value: string; line: number };
}

function parseKeys(tokens: Token[], file: string): ParsedKey[] {
  const keys: ParsedKey[] = [];
  let i = 0;
  const eofLine = () => tokens[tokens.length - 1]?.line ?? 1;
  const next = (what: string): Token => {
    const t = tokens[i++];
    if (!t) throw new Error(`${file}:${eofLine()}: the file ends where ${what} was expected`);
    return t;
  };
  const expect = (kind: Token['kind'], what: string): Token => {
    const t = next(what);
    if (t.kind !== kind) throw new Error(`${file}:${t.line}: expected ${what}`);
    return t;
  };
  while (i < tokens.length) {
    const kw = next('a key statement');
    if (kw.kind !== 'word' || kw.text.toLowerCase() !== 'key') {
      throw new Error(`${file}:${kw.line}: expected a key statement (key "name" { algorithm ...; secret "..."; };), found${quotable(kw) || ' something else'}`);
    }
    const nameTok = next('the key name');
    if (nameTok.kind !== 'string' && nameTok.kind !== 'word') throw new Error(`${file}:${nameTok.line}: the key statement has no name`);
    try {
      encodeName(nameTok.text);
      if (!nameTok.text) throw new Error('empty');
    } catch {
      throw new Error(`${file}:${nameTok.line}: the key name is not a valid DNS name`);
    }
    const key: ParsedKey = { name: nameTok.text, line: kw.line };
    const label = `key "${key.name}"`;
    expect('{', `"{" after ${label}`);
    for (;;) {
      const field = next(`a field of ${label} or "}"`);
      if (field.kind === '}') break;
      const fname = field.kind === 'word' ? field.text.toLowerCase() : '';
      if (fname !== 'algorithm' && fname !== 'secret') {
        throw new Error(`${file}:${field.line}: ${label}: unknown field${quotable(field)} (only algorithm and secret)`);
      }
      if (key[fname]) throw new Error(`${file}:${field.line}: ${label} has a second ${fname}`);
      const value = next(`the ${fname} of ${label}`);
      if (value.kind !== 'word' && value.kind !== 'string') throw new Error(`${file}:${value.line}: ${label}: ${fname} has no value`);
      key[fname] = { value: value.text, line: value.line };
      expect(';', `";" after the ${fname} of ${label}`);
    }
    expect(';', `";" after the "}" of ${label}`);
    keys.push(key);
  }
  return keys;
}

function toTsigKey(k: ParsedKey, file: string): TsigKey {
  const label = `key "${k.name}"`;
  if (!k.algorithm) throw new Error(`${file}:${k.line}: ${label} has no algorithm`);
  if (k.algorithm.value.toLowerCase() !== TSIG_ALGORITHM) {
    const shown = /^[a-z0-9-]{1,32}$/i.test(k.algorithm.value) ? ` ${k.algorithm.value}` : ' another algorithm';
    throw new Error(`${file}:${k.algorithm.line}: ${label} uses${shown}; only ${TSIG_ALGORITHM} is supported`);
  }
  if (!k.secret) throw new Error(`${file}:${k.line}: ${label} has no secret`);
  const b64 = k.secret.value.replace(/\s+/g, '');
  if (!b64 || !BASE64.test(b64)) throw new Error(`${file}:${k.secret.line}: the secret of ${label} is not base64`);
  return { name: normName(k.name), algorithm: TSIG_ALGORITHM, secret: Buffer.from(b64, 'base64') };
}

/**
 * The hmac-sha256 key in a BIND key file (`file` names it in errors). With several keys in the file,
 * `name` chooses one; without it, one key is required.
 */
export function parseTsigKeyFile(text: string, file: string, name?: string): TsigKey {
  const keys = parseKeys(tokenize(text, file), file);
  if (keys.length === 0) throw new Error(`${file}:1: no key statement (key "name" { algorithm hmac-sha256; secret "..."; };)`);
  const names = keys.map((k) => `"${k.name}"`).join(', ');
  if (name !== undefined) {
    const chosen = keys.filter((k) => normName(k.name) === normName(name));
    if (chosen.length === 0) throw new Error(`${file}:1: no key named "${name}" (the file has ${names})`);
    if (chosen.length > 1) throw new Error(`${file}:${chosen[1].line}: key "${name}" is defined twice`);
    return toTsigKey(chosen[0], file);
  }
  if (keys.length > 1) throw new Error(`${file}:${keys[1].line}: several keys (${names}): choose one by name`);
  return toTsigKey(keys[0], file);
}
