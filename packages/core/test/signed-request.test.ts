import { describe, expect, it } from 'vitest';
import {
  Bucket,
  type BucketCapabilities,
  type BucketDriver,
  type DriverSignOptions,
  defineCapabilities,
  isPolycloudError,
  type PolycloudError,
  type SignedRequest,
} from '../src/index.js';

const caps = (methods: BucketCapabilities['signedUrlMethods']): BucketCapabilities =>
  defineCapabilities({
    putIfNoneMatch: false,
    putIfMatch: false,
    getIfMatch: false,
    deleteIfMatch: false,
    putMd5: false,
    putCrc32c: false,
    copyIfNoneMatch: false,
    contentEncoding: false,
    contentDisposition: false,
    cacheControl: false,
    metadata: false,
    rangeRead: false,
    listDelimiter: false,
    signedUrlMethods: methods,
    maxSignedUrlSeconds: 3600,
    maxKeyBytes: 1024,
    maxObjectBytes: 1024,
    minPartBytes: 0,
    maxListLimit: 1000,
    maxDeleteBatch: 1,
    encryptionManagedKey: false,
    encryptionCustomerKey: false,
  });

const unused = () => Promise.reject(new Error('not used by these tests'));

/** A driver that only signs: URLs of the form https://signed.invalid/<key>?m=<method>&… */
function fakeDriver(
  methods: BucketCapabilities['signedUrlMethods'],
  extra: {
    /** Replaces the default signedUrl; `null` leaves it out. */
    signedUrl?: BucketDriver['signedUrl'] | null;
    signedRequest?: BucketDriver['signedRequest'];
  } = {},
) {
  const calls: { fn: string; key: string; opts: DriverSignOptions }[] = [];
  const driver: BucketDriver<null> = {
    provider: 'fake',
    name: 'bkt',
    capabilities: caps(methods),
    put: unused,
    get: unused,
    head: unused,
    delete: unused,
    list: unused,
    copy: unused,
    close: async () => {},
    native: () => null,
  };
  if (extra.signedUrl !== null) {
    const own = extra.signedUrl;
    driver.signedUrl = async (key, opts) => {
      calls.push({ fn: 'signedUrl', key, opts });
      if (own) return own(key, opts);
      return `https://signed.invalid/${encodeURIComponent(key)}?m=${opts.method}&e=${opts.expiresIn}`;
    };
  }
  if (extra.signedRequest) {
    const own = extra.signedRequest;
    driver.signedRequest = async (key, opts) => {
      calls.push({ fn: 'signedRequest', key, opts });
      return own(key, opts);
    };
  }
  return { bucket: new Bucket(driver), calls };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isPolycloudError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Bucket.signedRequest without a driver signedRequest (built from signedUrl)', () => {
  it('a PUT with contentType carries content-type; the URL is the signedUrl one', async () => {
    const { bucket, calls } = fakeDriver(['GET', 'PUT', 'DELETE']);
    const req = await bucket.signedRequest('a b.txt', {
      method: 'PUT',
      expiresIn: 60,
      contentType: 'text/plain',
    });
    expect(req).toEqual({
      url: 'https://signed.invalid/a%20b.txt?m=PUT&e=60',
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
    });
    expect(calls).toEqual([
      { fn: 'signedUrl', key: 'a b.txt', opts: { method: 'PUT', expiresIn: 60, contentType: 'text/plain' } },
    ]);
    expect(Object.isFrozen(req)).toBe(true);
    expect(Object.isFrozen(req.headers)).toBe(true);
    // The same URL signedUrl gives.
    expect(
      await bucket.signedUrl('a b.txt', { method: 'PUT', expiresIn: 60, contentType: 'text/plain' }),
    ).toBe(req.url);
  });

  it('a PUT without contentType, and GET/DELETE, need no headers', async () => {
    const { bucket } = fakeDriver(['GET', 'PUT', 'DELETE']);
    expect((await bucket.signedRequest('k', { method: 'PUT', expiresIn: 60 })).headers).toEqual({});
    // contentType on a GET is passed to the driver but is not a request header.
    const get = await bucket.signedRequest('k', { expiresIn: 60, contentType: 'text/plain' });
    expect(get).toEqual({ url: 'https://signed.invalid/k?m=GET&e=60', method: 'GET', headers: {} });
    const del = await bucket.signedRequest('k', { method: 'DELETE', expiresIn: 1 });
    expect(del).toEqual({ url: 'https://signed.invalid/k?m=DELETE&e=1', method: 'DELETE', headers: {} });
  });

  it('validates like signedUrl: capabilities, method, expiresIn, options, key', async () => {
    const { bucket, calls } = fakeDriver(['GET']);
    for (const fn of ['signedUrl', 'signedRequest'] as const) {
      const sign = (key: string, opts: unknown) => bucket[fn](key, opts as never);
      expect(await codeOf(sign('k', { method: 'PUT', expiresIn: 60 }))).toBe('UNSUPPORTED');
      expect(await codeOf(sign('k', { method: 'POST', expiresIn: 60 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', { method: 'GET' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', { method: 'GET', expiresIn: 0 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', { method: 'GET', expiresIn: 3601 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', { method: 'GET', expiresIn: 1.5 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', { method: 'GET', expiresIn: 60, contentType: '' }))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(await codeOf(sign('k', { method: 'GET', expiresIn: 60, expires: 60 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('', { method: 'GET', expiresIn: 60 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(sign('k', undefined))).toBe('INVALID_ARGUMENT');
    }
    expect(calls).toEqual([]);
    const err = await bucket.signedRequest('k', { method: 'DELETE', expiresIn: 60 }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('signedUrlMethods:DELETE');
  });

  it('no methods declared: UNSUPPORTED for every method', async () => {
    const { bucket } = fakeDriver([], { signedUrl: null });
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      expect(await codeOf(bucket.signedRequest('k', { method, expiresIn: 60 }))).toBe('UNSUPPORTED');
      expect(await codeOf(bucket.signedUrl('k', { method, expiresIn: 60 }))).toBe('UNSUPPORTED');
    }
  });

  it('fails after close', async () => {
    const { bucket } = fakeDriver(['GET']);
    await bucket.close();
    expect(await codeOf(bucket.signedRequest('k', { expiresIn: 60 }))).toBe('PRECONDITION_FAILED');
  });

  it('driver errors are normalised with the operation', async () => {
    const { bucket } = fakeDriver(['GET'], {
      signedUrl: async () => {
        throw new Error('signer exploded');
      },
    });
    const err = await bucket.signedRequest('k', { expiresIn: 60 }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'UNKNOWN')).toBe(true);
    expect((err as PolycloudError).operation).toBe('signedRequest');
    expect((err as PolycloudError).resource).toEqual({ name: 'bkt', key: 'k' });
  });
});

describe('Bucket.signedRequest with a driver signedRequest', () => {
  const own = async (key: string, opts: DriverSignOptions): Promise<SignedRequest> => ({
    url: `https://own.invalid/${key}?m=${opts.method}`,
    method: opts.method,
    headers: {
      'x-provider': 'yes',
      ...(opts.method === 'PUT' && opts.contentType ? { 'content-type': opts.contentType } : {}),
    },
  });

  it('uses the driver’s URL and headers, and signedUrl still uses signedUrl', async () => {
    const { bucket, calls } = fakeDriver(['GET', 'PUT'], { signedRequest: own });
    const req = await bucket.signedRequest('k', { method: 'PUT', expiresIn: 60, contentType: 'image/png' });
    expect(req).toEqual({
      url: 'https://own.invalid/k?m=PUT',
      method: 'PUT',
      headers: { 'x-provider': 'yes', 'content-type': 'image/png' },
    });
    expect(await bucket.signedUrl('k', { method: 'PUT', expiresIn: 60 })).toBe(
      'https://signed.invalid/k?m=PUT&e=60',
    );
    expect(calls.map((c) => c.fn)).toEqual(['signedRequest', 'signedUrl']);
  });

  it('a driver with signedRequest only serves signedRequest; signedUrl is UNSUPPORTED', async () => {
    const { bucket } = fakeDriver(['GET'], { signedRequest: own, signedUrl: null });
    expect((await bucket.signedRequest('k', { expiresIn: 60 })).url).toBe('https://own.invalid/k?m=GET');
    expect(await codeOf(bucket.signedUrl('k', { expiresIn: 60 }))).toBe('UNSUPPORTED');
  });
});
