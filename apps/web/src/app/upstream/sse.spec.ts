import { backoffDelay, SseParser, versionOfEvent } from './sse';

describe('the event-stream framing', () => {
  it('reads events, retry and comments, in whatever pieces they arrive, with LF, CRLF or CR line ends', () => {
    const stream = 'retry: 1000\n\n: keep-alive\n\nevent: version\ndata: {"version":3}\n\nevent: version\r\ndata: {"version":4}\r\n\r\nevent: version\rdata: {"version":5}\r\r';
    const expected = [
      { kind: 'retry', ms: 1000 },
      { kind: 'comment' },
      { kind: 'event', event: 'version', data: '{"version":3}' },
      { kind: 'event', event: 'version', data: '{"version":4}' },
      { kind: 'event', event: 'version', data: '{"version":5}' },
    ];
    expect(new SseParser().push(stream)).toEqual(expected);
    for (const size of [1, 2, 3, 7]) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...parser.push(stream.slice(i, i + size)));
      expect([size, got]).toEqual([size, expected]);
    }
  });

  it('joins data lines, defaults the event name, ignores unknown fields and holds an event until its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: a\ndata:b\nfoo: bar\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ kind: 'event', event: 'message', data: 'a\nb' }]);
    expect(parser.push('event: version\n\n')).toEqual([]);
    expect(parser.push('retry: soon\n\n')).toEqual([]);
  });

  it('refuses a line longer than 64 KiB instead of buffering it', () => {
    expect(() => new SseParser().push('data: ' + 'x'.repeat(70_000))).toThrow(/longer than 65536 characters/);
  });

  it('takes the version of a version event, and nothing else', () => {
    expect(versionOfEvent('{"version":12}')).toBe(12);
    expect(versionOfEvent('{"version":0}')).toBe(0);
    for (const bad of ['', 'v12', '{"version":"12"}', '{"version":-1}', '{"version":1.5}', 'null', '[12]']) expect([bad, versionOfEvent(bad)]).toEqual([bad, undefined]);
  });

  it('backs off from the base delay, doubling up to the limit, less up to half at random', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 10_000, () => 0))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(0, 1000, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(5000, 1000, 10_000, () => 0)).toBe(10_000);
  });
});
