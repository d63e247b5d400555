import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type BlobInfo,
  Bucket,
  type BucketCapabilities,
  type BucketDriver,
  copyBetween,
  type DriverPutOptions,
  defineCapabilities,
  isPolycloudError,
  pcError,
} from '../src/index.js';

const caps = (enc: { managed: boolean; customer: boolean }): BucketCapabilities =>
  defineCapabilities({
    putIfNoneMatch: true,
    putIfMatch: true,
    getIfMatch: true,
    deleteIfMatch: true,
    putMd5: true,
    putCrc32c: true,
    copyIfNoneMatch: true,
    contentEncoding: true,
    contentDisposition: true,
    cacheControl: true,
    metadata: true,
    rangeRead: true,
    listDelimiter: true,
    signedUrlMethods: [],
    maxSignedUrlSeconds: 0,
    maxKeyBytes: 1024,
    maxObjectBytes: 1024 * 1024,
    minPartBytes: 1,
    maxListLimit: 1000,
    maxDeleteBatch: 1,
    encryptionManagedKey: enc.managed,
    encryptionCustomerKey: enc.customer,
  });

const info = (key: string, size: number): BlobInfo => ({
  key,
  size,
  etag: '"e1"',
  contentType: undefined,
  contentEncoding: undefined,
  contentDisposition: undefined,
  cacheControl: undefined,
  metadata: {},
  lastModified: new Date(0),
});

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const streamOf = (b: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(b);
      c.close();
    },
  });

/** A driver that records what the portable layer hands it (no cloud involved). */
function recordingDriver(enc: { managed: boolean; customer: boolean }, data = bytes(1000)) {
  const calls: { fn: string; opts: Record<string, unknown> }[] = [];
  let gets = 0;
  const driver: BucketDriver<null> = {
    provider: 'fake',
    name: 'bkt',
    capabilities: caps(enc),
    async put(key, _body, opts: DriverPutOptions) {
      calls.push({ fn: 'put', opts: { ...opts } });
      return info(key, 0);
    },
    async get(key, opts) {
      calls.push({ fn: 'get', opts: { ...opts } });
      gets++;
      const from = opts.range?.offset ?? 0;
      // The first read is cut half-way: the portable layer must resume with the same key.
      const body = gets === 1 ? data.subarray(0, data.byteLength / 2) : data.subarray(from);
      return { info: info(key, data.byteLength), body: streamOf(body) };
    },
    async head(key, opts) {
      calls.push({ fn: 'head', opts: { ...opts } });
      return info(key, data.byteLength);
    },
    async copy(_src, dst, opts) {
      calls.push({ fn: 'copy', opts: { ...opts } });
      return info(dst, 0);
    },
    delete: async () => {},
    list: async () => ({ items: [], prefixes: [] }),
    close: async () => {},
    native: () => null,
  };
  return { driver, calls };
}

const key32 = () => crypto.getRandomValues(new Uint8Array(32));
const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isPolycloudError(e) ? e.code : `not a PolycloudError: ${String(e)}`;
  }
}

describe('encryption options', () => {
  it('validates shapes and key length with INVALID_ARGUMENT, never showing the key', async () => {
    const { driver, calls } = recordingDriver({ managed: true, customer: true });
    const b = new Bucket(driver);
    const short = key32().subarray(0, 31);
    const bad: unknown[] = [
      { customerKey: short },
      { customerKey: Array.from(key32()) },
      { customerKey: b64(key32()) },
      { kmsKeyId: '' },
      { kmsKeyId: 'has space' },
      { kmsKeyId: 42 },
      { kmsKeyId: 'a', customerKey: key32() },
      {},
      'aws:kms',
      null,
    ];
    for (const encryption of bad) {
      let err: unknown;
      try {
        await b.put('k', 'x', { encryption: encryption as never });
      } catch (e) {
        err = e;
      }
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), inspect(encryption)).toBe(true);
      expect(inspect(err, { depth: 8 })).not.toContain(b64(short));
    }
    expect(await codeOf(b.get('k', { encryption: { kmsKeyId: 'k' } as never }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(b.head('k', { encryption: { customerKey: short } }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(b.copy('a', 'b', { sourceEncryption: { customerKey: short } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(calls).toEqual([]);
  });

  it('rejects each kind with UNSUPPORTED before any I/O when its capability is absent', async () => {
    const { driver, calls } = recordingDriver({ managed: false, customer: false });
    const b = new Bucket(driver);
    const k = { customerKey: key32() };
    expect(await codeOf(b.put('k', 'x', { encryption: { kmsKeyId: 'key' } }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.put('k', 'x', { encryption: k }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.getBytes('k', { encryption: k }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.head('k', { encryption: k }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.exists('k', { encryption: k }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.copy('a', 'b', { encryption: { kmsKeyId: 'key' } }))).toBe('UNSUPPORTED');
    expect(await codeOf(b.copy('a', 'b', { sourceEncryption: k }))).toBe('UNSUPPORTED');
    expect(calls).toEqual([]);

    const managedOnly = recordingDriver({ managed: true, customer: false });
    const m = new Bucket(managedOnly.driver);
    expect(await codeOf(m.put('k', 'x', { encryption: k }))).toBe('UNSUPPORTED');
    expect(await codeOf(m.put('k', 'x', { encryption: { kmsKeyId: 'alias/app' } }))).toBe('ok');
    expect(managedOnly.calls[0]?.opts.encryption).toEqual({ kmsKeyId: 'alias/app' });
  });

  it('hands drivers a CustomerKey whose bytes never show in JSON, inspect or String', async () => {
    const { driver, calls } = recordingDriver({ managed: true, customer: true });
    const b = new Bucket(driver);
    const key = key32();
    await b.put('k', 'x', { encryption: { customerKey: key } });
    key.fill(0); // the caller's buffer changing later does not change what was validated
    const enc = calls[0]!.opts.encryption as {
      customerKey: { base64(): string; sha256: string; md5(): string };
    };
    const original = enc.customerKey.base64();
    expect(Buffer.from(original, 'base64').byteLength).toBe(32);
    expect(enc.customerKey.sha256).toBe(
      createHash('sha256').update(Buffer.from(original, 'base64')).digest('base64'),
    );
    expect(enc.customerKey.md5()).toBe(
      createHash('md5').update(Buffer.from(original, 'base64')).digest('base64'),
    );
    for (const text of [JSON.stringify(calls), inspect(calls, { depth: 10 }), String(enc.customerKey)]) {
      expect(text).not.toContain(original);
      expect(text).toContain(enc.customerKey.sha256);
    }
  });

  it('passes the read key to get, head, copy and to the ranged re-reads of a resumed body', async () => {
    const data = bytes(1000);
    const { driver, calls } = recordingDriver({ managed: true, customer: true }, data);
    const b = new Bucket(driver, { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    const encryption = { customerKey: key32() };
    const sha = createHash('sha256').update(encryption.customerKey).digest('base64');
    expect(await b.getBytes('k', { encryption })).toEqual(data);
    await b.head('k', { encryption });
    await b.copy('a', 'b', { sourceEncryption: encryption, encryption: { kmsKeyId: 'dest-key' } });
    const gets = calls.filter((c) => c.fn === 'get');
    expect(gets.length).toBe(2);
    expect(gets[1]!.opts.range).toEqual({ offset: 500, length: 500 });
    for (const c of calls.filter((c) => c.fn !== 'copy')) {
      expect((c.opts.customerKey as { sha256: string }).sha256, c.fn).toBe(sha);
    }
    const copy = calls.find((c) => c.fn === 'copy')!;
    expect((copy.opts.sourceCustomerKey as { sha256: string }).sha256).toBe(sha);
    expect(copy.opts.encryption).toEqual({ kmsKeyId: 'dest-key' });
  });

  it('drops a native cause that carries the key, keeping code and retryability', async () => {
    const { driver } = recordingDriver({ managed: true, customer: true });
    driver.head = async (key, opts) => {
      // What an SDK error can look like: the failed request, headers and all.
      const native = Object.assign(new Error('Not Found'), {
        request: { headers: { 'x-goog-encryption-key': opts.customerKey?.base64() } },
      });
      throw pcError('NOT_FOUND', `head on blob "bkt" key "${key}" (fake) failed: Not Found`, {
        provider: 'fake',
        retryable: false,
        cause: native,
      });
    };
    const b = new Bucket(driver);
    const encryption = { customerKey: key32() };
    let err: unknown;
    try {
      await b.head('k', { encryption });
    } catch (e) {
      err = e;
    }
    expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(false);
    const text = `${String(err)}${JSON.stringify(err)}${inspect(err, { depth: 12 })}`;
    expect(text).not.toContain(b64(encryption.customerKey));
    expect(text).toContain('Not Found');
  });

  it('applies a bucket-level default to writes and customer-key reads; a per-call option replaces it', async () => {
    const { driver, calls } = recordingDriver({ managed: true, customer: true });
    const encryption = { customerKey: key32() };
    const sha = createHash('sha256').update(encryption.customerKey).digest('base64');
    const b = new Bucket(driver, { encryption });
    await b.put('k', 'x');
    await b.head('k');
    await b.copy('k', 'k2');
    await b.put('m', 'x', { encryption: { kmsKeyId: 'other' } });
    const shaOf = (v: unknown) => (v as { sha256?: string } | undefined)?.sha256;
    expect(shaOf((calls[0]!.opts.encryption as { customerKey: unknown }).customerKey)).toBe(sha);
    expect(shaOf(calls[1]!.opts.customerKey)).toBe(sha);
    expect(shaOf(calls[2]!.opts.sourceCustomerKey)).toBe(sha);
    expect(shaOf((calls[2]!.opts.encryption as { customerKey: unknown }).customerKey)).toBe(sha);
    expect(calls[3]!.opts.encryption).toEqual({ kmsKeyId: 'other' });

    const closed: string[] = [];
    const none = recordingDriver({ managed: false, customer: false }).driver;
    none.close = async () => {
      closed.push('closed');
    };
    expect(() => new Bucket(none, { encryption: { kmsKeyId: 'k' } })).toThrow(/encryptionManagedKey/);
    expect(() => new Bucket(none, { encryption: { customerKey: key32().subarray(1) } })).toThrow(/32 bytes/);
    await new Promise((r) => setTimeout(r, 0));
    expect(closed.length).toBe(2);
  });

  it('copyBetween reads with sourceEncryption and writes with encryption', async () => {
    const from = recordingDriver({ managed: true, customer: true }, bytes(10));
    const to = recordingDriver({ managed: true, customer: true });
    const key = { customerKey: key32() };
    const sha = createHash('sha256').update(key.customerKey).digest('base64');
    // The recording driver cuts its first read: the resumed read must keep the key too.
    await copyBetween(new Bucket(from.driver), 'a', new Bucket(to.driver), 'b', {
      sourceEncryption: key,
      encryption: { kmsKeyId: 'dest' },
    });
    const gets = from.calls.filter((c) => c.fn === 'get');
    for (const g of gets) expect((g.opts.customerKey as { sha256: string }).sha256).toBe(sha);
    expect(to.calls[0]!.opts.encryption).toEqual({ kmsKeyId: 'dest' });
  });

  it('signed requests carry encryption as headers; a bare signed URL refuses what needs them', async () => {
    const signed: { fn: string; opts: Record<string, unknown> }[] = [];
    const make = (withRequest: boolean) => {
      const { driver } = recordingDriver({ managed: true, customer: true });
      const d: BucketDriver<null> = {
        ...driver,
        capabilities: {
          ...driver.capabilities,
          signedUrlMethods: ['GET', 'PUT', 'DELETE'],
          maxSignedUrlSeconds: 60,
        },
        signedUrl: async (_k, opts) => {
          signed.push({ fn: 'signedUrl', opts: { ...opts } });
          return 'https://signed.invalid/k';
        },
      };
      if (withRequest) {
        d.signedRequest = async (_k, opts) => {
          signed.push({ fn: 'signedRequest', opts: { ...opts } });
          return { url: 'https://signed.invalid/k', method: opts.method, headers: { 'x-test': '1' } };
        };
      }
      return d;
    };
    const encryption = { customerKey: key32() };
    const b = new Bucket(make(true));
    expect(await codeOf(b.signedUrl('k', { expiresIn: 60, encryption }))).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(b.signedUrl('k', { method: 'PUT', expiresIn: 60, encryption: { kmsKeyId: 'x' } })),
    ).toBe('INVALID_ARGUMENT');
    expect(await codeOf(b.signedRequest('k', { method: 'DELETE', expiresIn: 60, encryption }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(b.signedRequest('k', { expiresIn: 60, encryption: { kmsKeyId: 'x' } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(signed).toEqual([]);
    await b.signedRequest('k', { expiresIn: 60, encryption });
    expect((signed[0]!.opts.encryption as { customerKey: { sha256: string } }).customerKey.sha256).toBe(
      createHash('sha256').update(encryption.customerKey).digest('base64'),
    );
    // A managed-key default needs nothing on a GET, so a bare GET URL is fine; a PUT is not.
    const kms = new Bucket(make(true), { encryption: { kmsKeyId: 'default' } });
    expect(await codeOf(kms.signedUrl('k', { expiresIn: 60 }))).toBe('ok');
    expect(await codeOf(kms.signedUrl('k', { method: 'PUT', expiresIn: 60 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(kms.signedRequest('k', { method: 'PUT', expiresIn: 60 }))).toBe('ok');
    expect(signed.at(-1)!.opts.encryption).toEqual({ kmsKeyId: 'default' });
    // A driver that cannot return headers cannot carry encryption.
    const bare = new Bucket(make(false));
    expect(await codeOf(bare.signedRequest('k', { expiresIn: 60, encryption }))).toBe('UNSUPPORTED');
  });
});
