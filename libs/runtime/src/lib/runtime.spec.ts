import { IsInt, IsNumber, IsString, Max, Min, MinLength } from 'class-validator';
import { assignRequestId, Decimal, EnvError, Integer, loadEnv, parseHostPortList, requestId } from '../index';

class Settings {
  @Integer() @IsInt() COUNT = 3;
  @IsString() @MinLength(8) SECRET!: string;
}

class Fractions {
  @Decimal() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1) SHARE = 1;
}

describe('loadEnv', () => {
  it('fills defaults and converts integers', () => {
    expect(loadEnv(Settings, { COUNT: '12', SECRET: 'long-enough' })).toMatchObject({ COUNT: 12, SECRET: 'long-enough' });
    expect(loadEnv(Settings, { SECRET: 'long-enough', COUNT: '' }).COUNT).toBe(3);
  });

  it('names every bad variable in one line, without the values', () => {
    const attempt = () => loadEnv(Settings, { COUNT: 'many', SECRET: 'hunter2' });
    expect(attempt).toThrow(EnvError);
    expect(attempt).toThrow(/^invalid environment: COUNT must be an integer number; SECRET must be longer than or equal to 8 characters$/);
    expect(() => loadEnv(Settings, {})).toThrow(/SECRET must be a string \(it is not set\)/);
    try {
      attempt();
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it('converts decimal numbers, and names anything else', () => {
    for (const [given, value] of [['0.25', 0.25], ['.5', 0.5], ['1', 1], [' 0 ', 0], ['1.', 1]] as const) expect(loadEnv(Fractions, { SHARE: given }).SHARE).toBe(value);
    expect(loadEnv(Fractions, {}).SHARE).toBe(1);
    for (const bad of ['half', '1e-2', '0,5', 'NaN']) expect(() => loadEnv(Fractions, { SHARE: bad })).toThrow(/^invalid environment: SHARE must be a number/);
    expect(() => loadEnv(Fractions, { SHARE: '1.5' })).toThrow(/SHARE must not be greater than 1/);
  });

  it('parses host:port lists', () => {
    expect(parseHostPortList('a:1, b.example:3306')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b.example', port: 3306 },
    ]);
  });
});

describe('request ids', () => {
  it('keeps a well-formed id and replaces a malformed or missing one', () => {
    expect(requestId({ headers: { 'x-request-id': 'abc-123' } })).toBe('abc-123');
    expect(requestId({ headers: { 'x-request-id': 'a b' } })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId({ headers: { 'x-request-id': 'x'.repeat(200) } })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId({ headers: {} })).not.toBe(requestId({ headers: {} }));
  });

  it('writes the chosen id back into the request headers', () => {
    const req = { headers: { 'x-request-id': '<script>' } as Record<string, string> };
    const id = assignRequestId(req);
    expect(req.headers['x-request-id']).toBe(id);
    expect(id).not.toBe('<script>');
  });
});
