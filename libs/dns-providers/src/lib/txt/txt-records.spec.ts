import { KeyedQueue, MAX_TXT_VALUE, txtStrings, txtValueProblem } from './txt-records';

describe('TXT values (pure)', () => {
  it('txtValueProblem accepts printable ASCII up to the limit, and names what is wrong otherwise', () => {
    expect(txtValueProblem('LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0')).toBeUndefined();
    expect(txtValueProblem('with "quotes" and \\ and spaces')).toBeUndefined();
    expect(txtValueProblem('')).toBeUndefined();
    expect(txtValueProblem('x'.repeat(MAX_TXT_VALUE))).toBeUndefined();
    expect(txtValueProblem('x'.repeat(MAX_TXT_VALUE + 1))).toMatch(/more than 4080/);
    expect(txtValueProblem('tab\there')).toBe('the value must be printable ASCII');
    expect(txtValueProblem('é')).toBe('the value must be printable ASCII');
    expect(txtValueProblem(42)).toBe('the value must be a string (got number)');
  });

  it('txtStrings cuts a value into character-strings of 255 at most', () => {
    expect(txtStrings('abc')).toEqual(['abc']);
    expect(txtStrings('')).toEqual(['']);
    expect(txtStrings('x'.repeat(510) + 'y')).toEqual(['x'.repeat(255), 'x'.repeat(255), 'y']);
  });

  it('KeyedQueue runs calls for one key in order, one at a time, past failures; other keys at once', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((resolve, reject) => {
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          if (fail) reject(new Error(name));
          else resolve(name);
        }, ms);
      });
    const a1 = q.run('a', step('a1', 30, true));
    const a2 = q.run('a', step('a2', 5));
    const b1 = q.run('b', step('b1', 5));
    await expect(a1).rejects.toThrow('a1');
    await expect(a2).resolves.toBe('a2');
    await expect(b1).resolves.toBe('b1');
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });
});
