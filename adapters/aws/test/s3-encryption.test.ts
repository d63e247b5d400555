// What the S3 adapter sends for encryption at rest, checked on the wire: moto accepts SSE-C and
// ignores it (gap moto-s3-sse-c-ignored), so the conformance round trip alone cannot tell "sent
// and ignored" from "never sent". A recording proxy between the adapter and moto can.
import { createHash } from 'node:crypto';
import { CreateBucketCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createS3Client, type S3Bucket, s3Bucket } from '@polycloud/aws/s3';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from '@polycloud/conformance';
import { CustomerKey } from '@polycloud/core/driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssecRefusal } from '../src/s3/driver.js';
import { awsTarget, rand } from './emulator.js';

const { target, notRun } = awsTarget('moto', 'S3');
const MiB = 1024 * 1024;

describe.skipIf(notRun !== undefined)('S3 encryption on the wire (moto)', () => {
  const t = target!;
  let proxy: RecordingProxy;
  let client: S3Client;

  beforeAll(async () => {
    proxy = await startRecordingProxy(t.endpoint);
    client = createS3Client({
      endpoint: proxy.url,
      region: t.region,
      clientConfig: { credentials: t.credentials },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  async function fresh(): Promise<S3Bucket> {
    const name = `pc-${rand()}`;
    await client.send(new CreateBucketCommand({ Bucket: name }));
    // A low copy threshold sends copies of a few MiB through UploadPartCopy as well.
    return s3Bucket({
      bucket: name,
      client,
      multipartCopyThresholdBytes: 6 * MiB,
      multipartCopyPartBytes: 5 * MiB,
    });
  }

  const key = crypto.getRandomValues(new Uint8Array(32));
  const b64 = Buffer.from(key).toString('base64');
  const md5 = createHash('md5').update(key).digest('base64');
  const ssec = (r: RecordedRequest, prefix = 'x-amz-server-side-encryption-customer-') =>
    r.headers[`${prefix}algorithm`] === 'AES256' &&
    r.headers[`${prefix}key`] === b64 &&
    r.headers[`${prefix}key-md5`] === md5;
  const what = (r: RecordedRequest) => `${r.method} ${r.path.replace(/^\/[^/?]+/, '')}`;
  async function during(fn: () => Promise<unknown>): Promise<RecordedRequest[]> {
    proxy.clear();
    await fn();
    return [...proxy.requests];
  }

  it('SSE-C: every request of single-shot, multipart, copy and read carries the key (never in a URL)', async () => {
    const b = await fresh();
    const encryption = { customerKey: key };
    const body = crypto.getRandomValues(new Uint8Array(1000));
    const single = await during(() => b.put('small', body, { encryption }));
    expect(single.map(what)).toEqual([expect.stringMatching(/^PUT \/small/)]);
    expect(single.every((r) => ssec(r))).toBe(true);

    const big = new Uint8Array(11 * MiB);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let off = 0; off < big.byteLength; off += MiB) c.enqueue(big.subarray(off, off + MiB));
        c.close();
      },
    });
    const multi = await during(() => b.put('big', stream, { encryption, partSize: 5 * MiB }));
    // CreateMultipartUpload, three UploadPart, CompleteMultipartUpload: all with the key.
    expect(multi.filter((r) => /partNumber=/.test(r.path)).length).toBe(3);
    expect(multi.length).toBe(5);
    for (const r of multi) expect(ssec(r), what(r)).toBe(true);

    const reads = await during(async () => {
      await b.getBytes('small', { encryption });
      await (await b.get('big', { encryption, range: { offset: 5 * MiB - 3, length: 6 } })).bytes();
      await b.head('small', { encryption });
    });
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of reads) expect(ssec(r), what(r)).toBe(true);

    const other = crypto.getRandomValues(new Uint8Array(32));
    const copies = await during(async () => {
      await b.copy('small', 'c1', { sourceEncryption: encryption, encryption: { customerKey: other } });
      await b.copy('big', 'c2', { sourceEncryption: encryption, encryption: { customerKey: other } });
    });
    const otherB64 = Buffer.from(other).toString('base64');
    for (const r of copies) {
      // HEADs of the source carry its key; the copy requests carry both.
      if (r.method === 'HEAD') continue;
      expect(r.headers['x-amz-server-side-encryption-customer-key'], what(r)).toBe(otherB64);
      if (r.headers['x-amz-copy-source'] !== undefined)
        expect(ssec(r, 'x-amz-copy-source-server-side-encryption-customer-'), what(r)).toBe(true);
    }
    expect(copies.filter((r) => /partNumber=/.test(r.path)).length).toBe(3);
    for (const r of [...single, ...multi, ...reads, ...copies])
      expect(r.path).not.toContain(encodeURIComponent(b64));
  });

  it('signedRequest: SSE-C and SSE-KMS travel as signed headers, never in the URL', async () => {
    const b = await fresh();
    const encryption = { customerKey: key };
    const put = await b.signedRequest('s', { method: 'PUT', expiresIn: 60, encryption });
    expect(put.url).not.toContain(encodeURIComponent(b64));
    expect(put.url).not.toContain(b64);
    expect(decodeURIComponent(new URL(put.url).searchParams.get('X-Amz-SignedHeaders') ?? '')).toContain(
      'x-amz-server-side-encryption-customer-key',
    );
    const sent = await during(async () => {
      const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'signed and sealed' });
      expect(res.status).toBe(200);
    });
    expect(sent.every((r) => ssec(r))).toBe(true);
    const get = await b.signedRequest('s', { expiresIn: 60, encryption });
    expect(get.url).not.toContain(b64);
    const res = await fetch(get.url, { headers: get.headers });
    expect(await res.text()).toBe('signed and sealed');
    const kms = await b.signedRequest('m', {
      method: 'PUT',
      expiresIn: 60,
      encryption: { kmsKeyId: 'alias/app' },
    });
    expect(kms.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect((await fetch(kms.url, { method: 'PUT', headers: kms.headers, body: 'x' })).status).toBe(200);
    expect((await b.head('m')).encryption).toEqual({ kmsKeyId: 'alias/app' });
  });

  it('SSE-KMS: the key id goes on PutObject, CreateMultipartUpload and both copy paths, and is reported', async () => {
    const b = await fresh();
    const encryption = { kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/polycloud-test' };
    const kms = (r: RecordedRequest) =>
      r.headers['x-amz-server-side-encryption'] === 'aws:kms' &&
      r.headers['x-amz-server-side-encryption-aws-kms-key-id'] === encryption.kmsKeyId;
    const single = await during(() => b.put('small', 'x', { encryption }));
    expect(single.every(kms)).toBe(true);
    const big = new Uint8Array(7 * MiB);
    const multi = await during(() =>
      b.put(
        'big',
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(big);
            c.close();
          },
        }),
        { encryption, partSize: 5 * MiB },
      ),
    );
    expect(multi.filter((r) => r.method === 'POST' && /uploads/.test(r.path)).every(kms)).toBe(true);
    const copies = await during(async () => {
      await b.copy('small', 'c1', { encryption });
      await b.copy('big', 'c2', { encryption });
    });
    const creates = copies.filter(
      (r) => r.headers['x-amz-copy-source'] !== undefined || /uploads$|uploads=/.test(r.path),
    );
    expect(creates.filter(kms).length).toBeGreaterThanOrEqual(2);
    expect((await b.head('c2')).encryption).toEqual({ kmsKeyId: encryption.kmsKeyId });
  });
});

describe('SSE-C refusals (S3 answers no emulator reproduces)', () => {
  const err = (status: number, name: string, message = '') =>
    new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
  const key = new CustomerKey(new Uint8Array(32));
  it('400 without a key (GET InvalidRequest, HEAD without a body) and 403 with another key', () => {
    const get400 = err(
      400,
      'InvalidRequest',
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
    expect(ssecRefusal(get400, undefined, false)).toBe(true);
    expect(ssecRefusal(err(400, 'BadRequest'), undefined, true)).toBe(true);
    expect(ssecRefusal(err(403, 'AccessDenied'), key, false)).toBe(true);
    // Not about keys: a 403 without a key is IAM, a 400 GET for another reason stays itself.
    expect(ssecRefusal(err(403, 'AccessDenied'), undefined, false)).toBe(false);
    expect(ssecRefusal(err(400, 'InvalidArgument', 'Invalid range'), undefined, false)).toBe(false);
    expect(ssecRefusal(err(404, 'NotFound'), undefined, true)).toBe(false);
  });
});
