// What the Cloud Storage adapter sends for encryption at rest, checked on the wire:
// fake-gcs-server accepts customer-supplied keys and kmsKeyName and ignores both (gap
// fake-gcs-encryption-ignored), so only a recording proxy between the adapter and the emulator
// can tell "sent and ignored" from "never sent".
import { createHash } from 'node:crypto';
import type { Storage } from '@google-cloud/storage';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from '@polycloud/conformance';
import { type Bucket, openBucket } from '@polycloud/core';
import { storageClient } from '@polycloud/gcp/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCsekRefusal } from '../src/storage/driver.js';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

const { endpoint, notRun } = gcpTarget('fake-gcs-server');
const KiB = 1024;

describe.skipIf(notRun !== undefined)('Cloud Storage encryption on the wire (fake-gcs-server)', () => {
  let proxy: RecordingProxy;
  let admin: Storage;
  const credentials = fakeServiceAccount();

  beforeAll(async () => {
    proxy = await startRecordingProxy(endpoint!.env.STORAGE_EMULATOR_HOST!);
    admin = storageClient({ apiEndpoint: endpoint!.env.STORAGE_EMULATOR_HOST!, projectId: PROJECT });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  async function fresh(): Promise<Bucket> {
    const name = `pc-${rand()}`;
    await admin.createBucket(name);
    const url = `gs://${name}?projectId=${PROJECT}&endpoint=${encodeURIComponent(proxy.url)}`;
    return openBucket(url, { driverOptions: { credentials } });
  }

  const key = crypto.getRandomValues(new Uint8Array(32));
  const b64 = Buffer.from(key).toString('base64');
  const sha = createHash('sha256').update(key).digest('base64');
  const csek = (r: RecordedRequest, prefix = 'x-goog-encryption-') =>
    r.headers[`${prefix}algorithm`] === 'AES256' &&
    r.headers[`${prefix}key`] === b64 &&
    r.headers[`${prefix}key-sha256`] === sha;
  const what = (r: RecordedRequest) => `${r.method} ${r.path.slice(0, 90)}`;
  async function during(fn: () => Promise<unknown>): Promise<RecordedRequest[]> {
    proxy.clear();
    await fn();
    return [...proxy.requests];
  }

  it('CSEK: single-shot and resumable uploads, reads and rewrite carry the key headers', async () => {
    const b = await fresh();
    const encryption = { customerKey: key };
    const single = await during(() => b.put('small', 'x'.repeat(1000), { encryption }));
    expect(single.length).toBeGreaterThan(0);
    for (const r of single) expect(csek(r), what(r)).toBe(true);

    const resumable = await during(() =>
      b.put(
        'big',
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(600 * KiB));
            c.close();
          },
        }),
        { encryption, partSize: 256 * KiB },
      ),
    );
    const session = resumable.filter((r) => /uploadType=resumable/.test(r.path));
    expect(session.length, resumable.map(what).join('\n')).toBeGreaterThan(0);
    for (const r of session) expect(csek(r), what(r)).toBe(true);

    const reads = await during(async () => {
      await b.getBytes('small', { encryption });
      await (await b.get('big', { encryption, range: { offset: 256 * KiB - 3, length: 6 } })).bytes();
      await b.head('small', { encryption });
    });
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of reads) expect(csek(r), what(r)).toBe(true);

    const other = crypto.getRandomValues(new Uint8Array(32));
    const copy = await during(() =>
      b.copy('small', 'c', { sourceEncryption: encryption, encryption: { customerKey: other } }),
    );
    const rewrite = copy.filter((r) => r.path.includes('/rewriteTo/'));
    expect(rewrite.length).toBe(1);
    expect(csek(rewrite[0]!, 'x-goog-copy-source-encryption-')).toBe(true);
    expect(rewrite[0]!.headers['x-goog-encryption-key']).toBe(Buffer.from(other).toString('base64'));
    for (const r of [...single, ...resumable, ...reads, ...copy])
      expect(r.path).not.toContain(encodeURIComponent(b64));
  });

  it('signedRequest: CSEK headers are signed extension headers, never in the URL', async () => {
    const b = await fresh();
    const encryption = { customerKey: key };
    const put = await b.signedRequest('s', { method: 'PUT', expiresIn: 60, encryption });
    expect(put.url).not.toContain(encodeURIComponent(b64));
    expect(put.url).not.toContain(b64);
    expect(decodeURIComponent(new URL(put.url).searchParams.get('X-Goog-SignedHeaders') ?? '')).toContain(
      'x-goog-encryption-key',
    );
    expect(csek({ method: 'PUT', path: '', headers: put.headers })).toBe(true);
    const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'signed and sealed' });
    expect(res.status).toBe(200);
    const get = await b.signedRequest('s', { expiresIn: 60, encryption });
    expect(await (await fetch(get.url, { headers: get.headers })).text()).toBe('signed and sealed');
  });

  it('CMEK: kmsKeyName goes on single-shot and resumable uploads, destinationKmsKeyName on rewrite', async () => {
    const b = await fresh();
    const kmsKeyId = 'projects/p/locations/global/keyRings/r/cryptoKeys/polycloud';
    const q = encodeURIComponent(kmsKeyId);
    const encryption = { kmsKeyId };
    const single = await during(() => b.put('small', 'x', { encryption }));
    expect(
      single.some((r) => r.path.includes(`kmsKeyName=${q}`)),
      single.map(what).join('\n'),
    ).toBe(true);
    const resumable = await during(() =>
      b.put(
        'big',
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(600 * KiB));
            c.close();
          },
        }),
        { encryption, partSize: 256 * KiB },
      ),
    );
    expect(
      resumable.some((r) => /uploadType=resumable/.test(r.path) && r.path.includes(`kmsKeyName=${q}`)),
      resumable.map(what).join('\n'),
    ).toBe(true);
    const copy = await during(() => b.copy('small', 'c', { encryption }));
    expect(
      copy.some((r) => r.path.includes('/rewriteTo/') && r.path.includes(`destinationKmsKeyName=${q}`)),
    ).toBe(true);
  });
});

describe('CSEK refusals (Cloud Storage answers no emulator reproduces)', () => {
  const apiError = (code: number, message: string, reason: string) =>
    Object.assign(new Error(message), { code, errors: [{ domain: 'global', reason, message }] });
  it('400 for a missing or wrong customer-supplied key, nothing else', () => {
    expect(
      isCsekRefusal(
        apiError(
          400,
          'The target object is encrypted by a customer-supplied encryption key.',
          'resourceIsEncryptedWithCustomerEncryptionKey',
        ),
      ),
    ).toBe(true);
    expect(
      isCsekRefusal(
        apiError(400, 'The provided encryption key is incorrect.', 'customerEncryptionKeyIsIncorrect'),
      ),
    ).toBe(true);
    expect(isCsekRefusal(apiError(400, 'Invalid argument.', 'invalid'))).toBe(false);
    expect(isCsekRefusal(apiError(404, 'No such object: b/k', 'notFound'))).toBe(false);
  });
});
