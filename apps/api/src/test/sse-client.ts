import { request, IncomingHttpHeaders } from 'node:http';

/** A minimal server-sent-events client for tests: keeps the raw text and the parsed events. */
export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far, as text. */
  text(): string;
  /** `version` events received so far. */
  versions(): number[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, timeoutMs = 5000): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      clearTimeout(timer);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        versions: () =>
          text
            .split('\n\n')
            .slice(0, -1)
            .filter((frame) => frame.startsWith('event: version\n'))
            .map((frame) => (JSON.parse(frame.split('\n')[1].replace(/^data: /, '')) as { version: number }).version),
        ended,
        close: () => req.destroy(),
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
