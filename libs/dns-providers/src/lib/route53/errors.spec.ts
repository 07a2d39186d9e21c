import { classify, describeFailure, Failure, oneLine, toProviderError } from './errors';

const answered = (code: string, status: number, message = 'm'): Failure => ({ code, status, message });

describe('route53 errors', () => {
  it('describeFailure reads the SDK error name and HTTP status, or a network error code', () => {
    const sdk = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    expect(describeFailure(sdk)).toEqual({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
    expect(describeFailure(net)).toEqual({ code: 'ECONNREFUSED', status: undefined, message: 'connect ECONNREFUSED 127.0.0.1:1' });
    const listed = Object.assign(new Error(''), { name: 'InvalidChangeBatch', messages: ['a', 'b'], $metadata: { httpStatusCode: 400 } });
    expect(describeFailure(listed).message).toBe('a, b');
  });

  it.each([
    [answered('Throttling', 400), 'throttled', true],
    [answered('ThrottlingException', 400), 'throttled', true],
    [answered('PriorRequestNotComplete', 400), 'throttled', true],
    [answered('TooManyRequests', 429), 'throttled', true],
    [answered('Unknown', 400, 'Rate exceeded'), 'throttled', true],
    [answered('AccessDenied', 403), 'auth', false],
    [answered('InvalidClientTokenId', 403), 'auth', false],
    [answered('SignatureDoesNotMatch', 403), 'auth', false],
    [answered('UnrecognizedClientException', 400), 'auth', false],
    [answered('ExpiredToken', 400), 'auth', false],
    [answered('NoSuchHostedZone', 404), 'config', false],
    [answered('InvalidInput', 400), 'config', false],
    [{ code: 'CredentialsProviderError', message: 'Could not load credentials' }, 'config', false],
    [answered('InvalidChangeBatch', 400, "[RRSet with DNS name a.example.org. is not permitted in zone example.com.]"), 'config', false],
    [answered('InvalidChangeBatch', 400, "[Tried to delete resource record set [name='a.', type='A'] but it was not found]"), 'conflict', false],
    [answered('InvalidChangeBatch', 400, '[... but the values provided do not match the current values]'), 'conflict', false],
    [answered('InvalidChangeBatch', 400, '[... but it already exists]'), 'conflict', false],
    [answered('InvalidChangeBatch', 400, '[something else]'), 'refused', false],
    [{ code: 'TimeoutError', message: 'socket timed out' }, 'unreachable', false],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'unreachable', false],
    [answered('InternalFailure', 500), 'refused', true],
    [answered('Whatever', 400), 'refused', false],
  ] as const)('classifies %o for a read as %s (retry %s)', (failure, kind, retry) => {
    expect(classify(failure, 'ListResourceRecordSets')).toEqual({ kind, retry });
  });

  it('does not send a change again after a 5xx (it may have been applied), but retries a throttled one', () => {
    expect(classify(answered('ServiceUnavailable', 503), 'ChangeResourceRecordSets')).toEqual({ kind: 'refused', retry: false });
    expect(classify(answered('ServiceUnavailable', 503), 'GetChange')).toEqual({ kind: 'refused', retry: true });
    expect(classify(answered('Throttling', 400), 'ChangeResourceRecordSets')).toEqual({ kind: 'throttled', retry: true });
  });

  it('oneLine joins lines, removes secrets and signatures, and truncates', () => {
    const text = 'bad\nsignature for s3cr3tKEY\r\n Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=abc123';
    expect(oneLine(text, ['s3cr3tKEY'])).toBe('bad signature for [redacted] Authorization: AWS4-HMAC-SHA256 Credential=[redacted], Signature=[redacted]');
    expect(oneLine('x'.repeat(500), [])).toHaveLength(300);
  });

  it('toProviderError names the operation, the subject, the code and the status in one line', () => {
    const e = toProviderError(answered('Throttling', 400, 'Rate\nexceeded'), { kind: 'throttled', retry: true }, 'GetChange', 'www.example.com A', []);
    expect(e.kind).toBe('throttled');
    expect(e.message).toBe('route53 GetChange www.example.com A: still throttled after retries (Throttling, HTTP 400): Rate exceeded');
  });
});
