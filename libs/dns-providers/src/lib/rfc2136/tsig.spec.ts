import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTsigKeyFile } from './key-file';
import { decodeTsigRdata, encodeTsigRdata, signRequest, TsigKey, verifyTsig } from './tsig';
import { takeTcpFrame } from './transport';
import { decodeMessage, encodeMessage, queryMessage, TYPE } from './wire';

const key: TsigKey = { name: 'vita-update', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 0x5a) };
const NOW = 1_800_000_000;

const signedQuery = () => signRequest(encodeMessage(queryMessage(0x4242, 'www.vita.test', TYPE.A)), key, NOW);

describe('TSIG hmac-sha256 (RFC 8945)', () => {
  it('a signed request carries one TSIG record (key name, class ANY, TTL 0) with time, fudge 300 and the original id, and verifies', () => {
    const { signed, mac } = signedQuery();
    const m = decodeMessage(signed);
    expect(m.additionals).toHaveLength(1);
    const rr = m.additionals[0];
    expect(rr).toMatchObject({ name: 'vita-update', type: 250, class: 255, ttl: 0 });
    expect(decodeTsigRdata(rr.rdata)).toEqual({ algorithm: 'hmac-sha256', timeSigned: NOW, fudge: 300, mac, originalId: 0x4242, error: 0, other: Buffer.alloc(0) });
    expect(mac).toHaveLength(32);
    expect(verifyTsig(signed, m, key, NOW)).toMatchObject({ status: 'verified' });
  });

  it('TSIG RDATA round-trips', () => {
    const t = { algorithm: 'hmac-sha256', timeSigned: 2 ** 40 + 5, fudge: 300, mac: Buffer.alloc(32, 1), originalId: 7, error: 18, other: Buffer.from([0, 0, 1, 2, 3, 4]) };
    expect(decodeTsigRdata(encodeTsigRdata(t))).toEqual(t);
    expect(() => decodeTsigRdata(encodeTsigRdata(t).subarray(0, 20))).toThrow(/truncated TSIG RDATA/);
  });

  it('any flipped bit outside the message id makes verification fail (the id may be rewritten: the original id is signed)', () => {
    const { signed } = signedQuery();
    for (let i = 2; i < signed.length; i++) {
      const bad = Buffer.from(signed);
      bad[i] ^= 0x01;
      let verdict: string;
      try {
        verdict = verifyTsig(bad, decodeMessage(bad), key, NOW).status;
      } catch {
        verdict = 'undecodable';
      }
      expect([i, verdict]).not.toEqual([i, 'verified']);
    }
    const newId = Buffer.from(signed);
    newId.writeUInt16BE(0x0001, 0);
    expect(verifyTsig(newId, decodeMessage(newId), key, NOW).status).toBe('verified');
  });

  it('another secret, another key name, a time outside the fudge, a missing TSIG are each reported', () => {
    const { signed } = signedQuery();
    const m = decodeMessage(signed);
    expect(verifyTsig(signed, m, { ...key, secret: Buffer.alloc(32, 1) }, NOW)).toEqual({ status: 'invalid', reason: 'the MAC does not verify (BADSIG)' });
    expect(verifyTsig(signed, m, { ...key, name: 'other' }, NOW)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('signed with key "vita-update"') });
    expect(verifyTsig(signed, m, key, NOW + 300).status).toBe('verified');
    expect(verifyTsig(signed, m, key, NOW - 301)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('BADTIME') });
    const plain = encodeMessage(queryMessage(1, 'a.test', TYPE.A));
    expect(verifyTsig(plain, decodeMessage(plain), key, NOW)).toEqual({ status: 'unsigned' });
  });

  it('a signer error (BADKEY, no MAC) is reported as such', () => {
    const { signed } = signedQuery();
    const m = decodeMessage(signed);
    const t = decodeTsigRdata(m.additionals[0].rdata);
    const unsigned = encodeMessage({ ...m, additionals: [{ ...m.additionals[0], rdata: encodeTsigRdata({ ...t, mac: Buffer.alloc(0), error: 17 }) }] });
    expect(verifyTsig(unsigned, decodeMessage(unsigned), key, NOW)).toEqual({ status: 'signer-error', error: 17, errorName: 'BADKEY' });
  });

  describe('against an independent signer: dig -k', () => {
    let dir: string;
    let server: Server;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'vita-tsig-spec-'))));
    afterAll(async () => {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    });

    it("verifies the MAC of dig's signed query with the key tsig-keygen made", async () => {
      const keyFile = join(dir, 'k.key');
      const text = await new Promise<string>((res, rej) => execFile('tsig-keygen', ['-a', 'hmac-sha256', 'dig-key'], (e, out) => (e ? rej(e) : res(out))));
      writeFileSync(keyFile, text, { mode: 0o600 });
      const digKey = parseTsigKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
      const captured = new Promise<Buffer>((resolve) => {
        server = createServer((sock) => {
          let got = Buffer.alloc(0);
          sock.on('data', (d: Buffer) => {
            got = Buffer.concat([got, d]);
            const f = takeTcpFrame(got);
            if (f) {
              resolve(Buffer.from(f.frame));
              sock.destroy();
            }
          });
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const dig = new Promise<void>((r) =>
        execFile('dig', ['+tcp', '+time=1', '+tries=1', '-k', keyFile, '-p', String(port), '@127.0.0.1', 'www.vita.test', 'A'], { timeout: 10_000 }, () => r()),
      );
      const request = await captured;
      await dig;
      const m = decodeMessage(request);
      expect(m.questions[0]).toMatchObject({ name: 'www.vita.test', type: TYPE.A });
      expect(verifyTsig(request, m, digKey, Date.now() / 1000)).toMatchObject({ status: 'verified' });
      expect(verifyTsig(request, m, { ...digKey, secret: Buffer.alloc(32) }, Date.now() / 1000).status).toBe('invalid');
    });
  });
});
