import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  createS3Client,
  decodeMetadataValue,
  encodeMetadataValue,
  type S3Bucket,
  s3Bucket,
} from '@polycloud/aws/s3';
import { isPolycloudError, openBucket } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsTarget, rand } from './emulator.js';

const { target, notRun } = awsTarget('moto', 'S3');
const MiB = 1024 * 1024;

describe.skipIf(notRun !== undefined)('S3 adapter (moto)', () => {
  let client: S3Client;
  const t = target!;

  beforeAll(() => {
    client = createS3Client({
      endpoint: t.endpoint,
      region: t.region,
      clientConfig: { credentials: t.credentials },
    });
  });
  afterAll(() => client?.destroy());

  async function freshBucket(opts: Partial<Parameters<typeof s3Bucket>[0]> = {}): Promise<S3Bucket> {
    const name = `pc-${rand()}`;
    await client.send(new CreateBucketCommand({ Bucket: name }));
    return s3Bucket({ bucket: name, client, ...opts });
  }

  it('native() returns the client it was given, and close() leaves that client usable', async () => {
    const b = await freshBucket();
    expect(b.native()).toBe(client);
    await b.put('k', 'v');
    await b.close();
    // The caller's client still works after the bucket is closed.
    await client.send(new HeadObjectCommand({ Bucket: b.name, Key: 'k' }));
  });

  describe('presigned URLs with plain fetch', () => {
    it('GET, PUT (with the signed content type) and DELETE work without credentials', async () => {
      const b = await freshBucket();
      await b.put('dir/a b+c.txt', 'hello');
      const get = await b.signedUrl('dir/a b+c.txt', { method: 'GET', expiresIn: 60 });
      const res = await fetch(get);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello');

      const put = await b.signedUrl('up.json', {
        method: 'PUT',
        expiresIn: 60,
        contentType: 'application/json',
      });
      const signed = new URL(put).searchParams.get('X-Amz-SignedHeaders') ?? '';
      expect(signed.split(';')).toContain('content-type');
      const up = await fetch(put, {
        method: 'PUT',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      });
      expect(up.status).toBe(200);
      expect(await b.getText('up.json')).toBe('{"a":1}');
      expect((await b.head('up.json')).contentType).toBe('application/json');

      const del = await b.signedUrl('up.json', { method: 'DELETE', expiresIn: 60 });
      expect((await fetch(del, { method: 'DELETE' })).status).toBeLessThan(300);
      expect(await b.exists('up.json')).toBe(false);
    });

    it('a presigned PUT carries no checksum of an empty body', async () => {
      // Clients with the SDK's default (WHEN_SUPPORTED) checksums sign a CRC32 of the absent
      // body into presigned PUT URLs, which real S3 then enforces against the upload.
      const defaults = createS3Client({
        endpoint: t.endpoint,
        region: t.region,
        clientConfig: { credentials: t.credentials, requestChecksumCalculation: 'WHEN_SUPPORTED' },
      });
      const name = `pc-${rand()}`;
      await defaults.send(new CreateBucketCommand({ Bucket: name }));
      const b = s3Bucket({ bucket: name, client: defaults });
      const url = new URL(await b.signedUrl('x.bin', { method: 'PUT', expiresIn: 60 }));
      const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
      expect(names.filter((k) => k.includes('checksum'))).toEqual([]);
      expect((url.searchParams.get('X-Amz-SignedHeaders') ?? '').includes('checksum')).toBe(false);
      const res = await fetch(url, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
      expect(res.status).toBe(200);
      expect(await b.getBytes('x.bin')).toEqual(new Uint8Array([1, 2, 3]));
      defaults.destroy();
    });
  });

  describe('metadata encoding', () => {
    it('encodes values HTTP headers cannot carry and decodes them exactly', () => {
      for (const v of [
        'plain',
        '',
        ' padded ',
        'tab\there',
        'Zoë 😀',
        '=?UTF-8?B?aGk=?=',
        '=?not-a-word',
        'a\nb',
        '\u0000',
      ]) {
        const enc = encodeMetadataValue(v);
        expect(enc).toMatch(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/);
        expect(decodeMetadataValue(enc)).toBe(v);
      }
      expect(encodeMetadataValue('plain value')).toBe('plain value');
    });

    it('stores non-ASCII values as RFC 2047 words other S3 clients can decode', async () => {
      const b = await freshBucket();
      await b.put('m', 'x', {
        metadata: { city: 'Zürich', empty: '', word: '=?UTF-8?B?aGk=?=', ascii: 'plain' },
      });
      const raw = await client.send(new HeadObjectCommand({ Bucket: b.name, Key: 'm' }));
      expect(raw.Metadata?.city).toBe(`=?UTF-8?B?${Buffer.from('Zürich').toString('base64')}?=`);
      expect(raw.Metadata?.ascii).toBe('plain');
      expect((await b.head('m')).metadata).toEqual({
        city: 'Zürich',
        empty: '',
        word: '=?UTF-8?B?aGk=?=',
        ascii: 'plain',
      });
    });
  });

  describe('multipart uploads', () => {
    it('a 64 MiB stream in 5 MiB parts with concurrency 2 keeps memory bounded', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const partSize = 5 * MiB;
      const concurrency = 2;
      const total = 64 * MiB;
      const b = await freshBucket({ partSize, concurrency });
      const sample = () => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      gc();
      const baseline = sample();
      let peak = 0;
      let produced = 0;
      const chunk = 256 * 1024;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (produced >= total) {
            c.close();
            return;
          }
          const n = Math.min(chunk, total - produced);
          c.enqueue(new Uint8Array(n).fill(produced / chunk));
          produced += n;
          if (produced % (4 * MiB) === 0) {
            gc();
            peak = Math.max(peak, sample() - baseline);
          }
        },
      });
      const info = await b.put('big', body);
      expect(info.size).toBe(total);
      expect((await b.head('big')).size).toBe(total);
      // Live memory stays near partSize × (concurrency + 1); allow 4× partSize × concurrency.
      expect(peak).toBeLessThan(4 * partSize * concurrency);
    }, 180_000);

    it('an aborted upload leaves no multipart upload behind', async () => {
      const b = await freshBucket();
      const ac = new AbortController();
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          n++;
          if (n === 50) ac.abort(new Error('stop'));
          c.enqueue(new Uint8Array(256 * 1024));
        },
      });
      await expect(b.put('k', body, { partSize: 5 * MiB, signal: ac.signal })).rejects.toMatchObject({
        code: 'CANCELLED',
      });
      const ups = await client.send(new ListMultipartUploadsCommand({ Bucket: b.name }));
      expect(ups.Uploads ?? []).toEqual([]);
      expect(await b.exists('k')).toBe(false);
    });

    it('a failed checksum on the multipart path aborts the upload', async () => {
      const b = await freshBucket();
      const data = new Uint8Array(6 * MiB).fill(7);
      const stream = new Blob([data]).stream();
      await expect(
        b.put('k', stream, { partSize: 5 * MiB, md5: 'AAAAAAAAAAAAAAAAAAAAAA==' }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      const ups = await client.send(new ListMultipartUploadsCommand({ Bucket: b.name }));
      expect(ups.Uploads ?? []).toEqual([]);
    });
  });

  describe('copy', () => {
    it('uses UploadPartCopy above the threshold and keeps headers and metadata', async () => {
      const b = await freshBucket({ multipartCopyThresholdBytes: MiB, multipartCopyPartBytes: 5 * MiB });
      const data = new Uint8Array(12 * MiB + 3);
      for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
      await b.put('src', data, {
        contentType: 'image/png',
        cacheControl: 'max-age=5',
        metadata: { who: 'Zoë' },
      });
      const info = await b.copy('src', 'dst', { ifNoneMatch: '*' });
      expect(info.etag).toMatch(/-3"?$/); // three parts
      expect(Buffer.compare(Buffer.from(await b.getBytes('dst')), Buffer.from(data))).toBe(0);
      const head = await b.head('dst');
      expect(head).toMatchObject({
        contentType: 'image/png',
        cacheControl: 'max-age=5',
        metadata: { who: 'Zoë' },
      });
      await expect(b.copy('src', 'dst', { ifNoneMatch: '*' })).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      const ups = await client.send(new ListMultipartUploadsCommand({ Bucket: b.name }));
      expect(ups.Uploads ?? []).toEqual([]);
    }, 120_000);

    it('copies an object onto itself', async () => {
      const b = await freshBucket();
      await b.put('same', 'x', { contentType: 'text/plain', metadata: { a: 'ü' } });
      await b.copy('same', 'same');
      expect(await b.head('same')).toMatchObject({ contentType: 'text/plain', metadata: { a: 'ü' } });
    });
  });

  describe('listing', () => {
    it('decodes url-encoded keys and prefixes, spaces and plus signs included', async () => {
      const b = await freshBucket();
      const keys = ['a b/1', 'a+b/2', 'c%20d', 'tab\t/x', 'ü/ñ'];
      for (const k of keys) await b.put(k, k);
      const page = await b.list({ delimiter: '/' });
      expect([...page.prefixes, ...page.items.map((i) => i.key)].sort()).toEqual(
        ['a b/', 'a+b/', 'c%20d', 'tab\t/', 'ü/'].sort(),
      );
    });

    it('keys with every control character but the line feed round-trip (moto cannot route U+000A)', async () => {
      const b = await freshBucket();
      const ctl = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\n');
      const keys = [`ctl${ctl.join('')}\x7f`, ...ctl.map((c) => `k${c}x`)];
      for (const k of keys) await b.put(k, k);
      for (const k of keys) expect(await b.getText(k)).toBe(k);
      const listed: string[] = [];
      for await (const item of b.entries()) listed.push(item.key);
      expect(listed.sort()).toEqual([...keys].sort());
      const r = await b.deleteMany(keys);
      expect(r.every((x) => x.ok)).toBe(true);
      expect((await b.list()).items).toEqual([]);
    });

    it('deleteMany reports per-key results and deletes keys XML cannot carry one by one', async () => {
      const b = await freshBucket();
      const keys = ['a', 'ctl\u0001x', 'b'];
      for (const k of keys) await b.put(k, 'x');
      const r = await b.deleteMany([...keys, 'missing']);
      expect(r.map((x) => x.ok)).toEqual([true, true, true, true]);
      expect((await b.list()).items).toEqual([]);
    });
  });

  describe('errors', () => {
    it('maps a missing bucket to NOT_FOUND with the native error as cause', async () => {
      const b = s3Bucket({ bucket: `pc-missing-${rand()}`, client });
      const err = await b.head('k').catch((e: unknown) => e);
      expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
      const e = err as {
        provider: string;
        service: string;
        operation: string;
        resource: unknown;
        cause: unknown;
      };
      expect(e.provider).toBe('aws');
      expect(e.service).toBe('blob');
      expect(e.operation).toBe('head');
      expect(e.resource).toMatchObject({ key: 'k' });
      expect((e.cause as { $metadata?: unknown }).$metadata).toBeDefined();
      const put = await b.put('k', 'x').catch((x: unknown) => x);
      expect(isPolycloudError(put, 'NOT_FOUND')).toBe(true);
      expect((put as { retryable: boolean }).retryable).toBe(false);
    });

    it('a HEAD of a missing key says "not found", not the SDK placeholder "UnknownError"', async () => {
      const name = `pc-${rand()}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      const b = s3Bucket({ bucket: name, client });
      const err = await b.head('missing').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_FOUND' });
      expect((err as Error).message).toContain('not found');
      expect((err as Error).message).not.toContain('UnknownError');
    });

    it('maps a refused connection to UNAVAILABLE (retryable)', async () => {
      const dead = createS3Client({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        clientConfig: { credentials: t.credentials, maxAttempts: 1 },
      });
      const b = s3Bucket({ bucket: 'x', client: dead, retry: { maxAttempts: 1 } });
      const err = await b.head('k').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      dead.destroy();
    });
  });

  describe('URL opening', () => {
    it('opens s3:// URLs and rejects unknown parameters', async () => {
      const name = `pc-${rand()}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      const url = `s3://${name}?endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}&forcePathStyle=true`;
      const b = await openBucket(url, { driverOptions: { clientConfig: { credentials: t.credentials } } });
      await b.put('k', 'v');
      expect(await b.getText('k')).toBe('v');
      await b.close();
      await expect(openBucket(`s3://${name}?regoin=x`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openBucket(`s3://${name}?forcePathStyle=maybe`)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(openBucket(`s3://${name}/extra/path`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const withClient = await openBucket(`s3://${name}`, { driverOptions: { client } });
      expect(withClient.native()).toBe(client);
      expect(await withClient.getText('k')).toBe('v');
    });
  });

  it('reports the MD5 of single-part objects', async () => {
    const b = await freshBucket();
    const info = await b.put('k', 'abc', { md5: 'kAFQmDzST7DWlj99KOF/cg==' });
    expect(info.md5).toBe('kAFQmDzST7DWlj99KOF/cg==');
    expect((await b.head('k')).md5).toBe('kAFQmDzST7DWlj99KOF/cg==');
  });
});
