import { checkEndpointTransport, isLoopbackHost } from '@polycloud/core/driver';
import { afterEach, describe, expect, it } from 'vitest';

const refusal = (endpoint: string, extra: { plaintext?: boolean; allow?: boolean } = {}) => {
  try {
    checkEndpointTransport(endpoint, { service: 'blob', source: 'the endpoint option', ...extra });
    return undefined;
  } catch (e) {
    return e as Error & { code?: string };
  }
};

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    'api.localhost',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
  ])('%s is this machine', (h) => expect(isLoopbackHost(h)).toBe(true));
  it.each([
    '10.0.0.5',
    '128.0.0.1',
    '0.0.0.0',
    'localhost.example.com',
    'example.com',
    '::2',
    '127.0.0.256',
    'minio',
  ])('%s is not', (h) => expect(isLoopbackHost(h)).toBe(false));
});

describe('checkEndpointTransport', () => {
  afterEach(() => {
    delete process.env.POLYCLOUD_ALLOW_INSECURE_HTTP;
  });

  it('allows https anywhere and http on loopback', () => {
    for (const e of [
      'https://s3.example.com',
      'http://127.0.0.1:9000',
      'http://localhost:4443/storage/v1',
      'http://[::1]:10000/devstoreaccount1',
    ]) {
      expect(refusal(e), e).toBeUndefined();
    }
  });

  it('refuses http off this machine with INVALID_ARGUMENT naming the endpoint and the way to allow it', () => {
    const e = refusal('http://minio.internal:9000/bucket?X-Amz-Signature=abc');
    expect(e?.code).toBe('INVALID_ARGUMENT');
    expect(e?.message).toContain('http://minio.internal:9000');
    expect(e?.message).toContain('allowInsecureHttp=true');
    expect(e?.message).toContain('the endpoint option');
  });

  it('never repeats user info, path or query (where credentials live)', () => {
    const e = refusal('http://AKIAUSER:s3cr3tKey@10.1.2.3:9000/path/sig?sig=S1GNATURE&sv=x');
    expect(e?.message).toContain('http://10.1.2.3:9000');
    for (const secret of ['AKIAUSER', 's3cr3tKey', 'S1GNATURE', '/path/sig'])
      expect(e?.message).not.toContain(secret);
  });

  it('judges a gRPC host:port by the plaintext flag the adapter gives', () => {
    expect(refusal('pubsub.internal:8085', { plaintext: true })?.message).toContain('pubsub.internal:8085');
    expect(refusal('127.0.0.1:8085', { plaintext: true })).toBeUndefined();
    expect(refusal('pubsub.googleapis.com:443', { plaintext: false })).toBeUndefined();
  });

  it('is allowed explicitly by the option or POLYCLOUD_ALLOW_INSECURE_HTTP', () => {
    expect(refusal('http://10.0.0.5:9000', { allow: true })).toBeUndefined();
    expect(refusal('http://10.0.0.5:9000', { allow: false })?.code).toBe('INVALID_ARGUMENT');
    process.env.POLYCLOUD_ALLOW_INSECURE_HTTP = 'true';
    expect(refusal('http://10.0.0.5:9000')).toBeUndefined();
  });
});
