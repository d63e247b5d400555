/**
 * The emulator differences listed in conformance/src/emulators/gaps.ts, shown with the native
 * SDKs alone (no polycloud code involved). Each test asserts the emulator's current behaviour;
 * if one starts failing, the emulator was fixed and its gap entry should go.
 */
import type { Storage } from '@google-cloud/storage';
import { storageClient } from '@polycloud/gcp/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

const gcs = gcpTarget('fake-gcs-server');

describe.skipIf(!gcs.endpoint)('fake-gcs-server differences from Cloud Storage', () => {
  let storage: Storage;
  let name: string;
  beforeAll(async () => {
    storage = storageClient({
      apiEndpoint: gcs.endpoint!.env.STORAGE_EMULATOR_HOST!,
      projectId: PROJECT,
      credentials: fakeServiceAccount(),
    });
    name = `gap-${rand()}`;
    await storage.createBucket(name);
  });
  afterAll(async () => {
    await storage.bucket(name).deleteFiles({ force: true });
    await storage.bucket(name).delete();
  });

  it('ignores ifGenerationMatch on objects.delete (Cloud Storage answers 412)', async () => {
    const f = storage.bucket(name).file('delete-precondition');
    await f.save('x', { resumable: false });
    const [md] = await f.getMetadata();
    const stale = Number(md.generation) - 1;
    await f.delete({ ifGenerationMatch: stale });
    expect((await f.exists())[0]).toBe(false);
  });

  it('ignores ifGenerationMatch=0 on objects.rewrite (Cloud Storage answers 412)', async () => {
    const b = storage.bucket(name);
    await b.file('rw-src').save('src', { resumable: false });
    await b.file('rw-dst').save('dst', { resumable: false });
    await b.file('rw-src').copy(b.file('rw-dst'), { preconditionOpts: { ifGenerationMatch: 0 } });
    expect((await b.file('rw-dst').download())[0].toString()).toBe('src');
  });

  it('does not count prefixes towards maxResults nor page through them', async () => {
    const b = storage.bucket(name);
    for (const k of ['pg/a', 'pg/b/1', 'pg/c/1', 'pg/d']) await b.file(k).save(k, { resumable: false });
    const [files, , raw] = await b.getFiles({
      prefix: 'pg/',
      delimiter: '/',
      maxResults: 1,
      autoPaginate: false,
    });
    const prefixes = (raw as { prefixes?: string[] }).prefixes ?? [];
    // Cloud Storage returns at most one entry (item or prefix) here.
    expect(files.length + prefixes.length).toBeGreaterThan(1);
    expect(prefixes).toEqual(['pg/b/', 'pg/c/']);
  });

  it('takes a resumable upload’s content type from the chunk request, not the session metadata', async () => {
    const f = storage.bucket(name).file('resumable-type');
    await new Promise<void>((resolve, reject) => {
      const ws = f.createWriteStream({
        resumable: true,
        chunkSize: 256 * 1024,
        metadata: { contentType: 'application/x-polycloud', cacheControl: 'no-cache' },
        validation: false,
      });
      ws.on('finish', () => resolve()).on('error', reject);
      ws.end(Buffer.alloc(300 * 1024, 1));
    });
    const [md] = await f.getMetadata();
    expect(md.cacheControl).toBe('no-cache'); // the session metadata did arrive…
    expect(md.contentType).not.toBe('application/x-polycloud'); // …but its content type was replaced
  });

  it('does not verify V4 signatures: a GET-signed URL accepts a PUT', async () => {
    const f = storage.bucket(name).file('signed-ro');
    await f.save('original', { resumable: false });
    const [url] = await f.getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000 });
    const res = await fetch(url, { method: 'PUT', body: 'tampered' });
    expect(res.status).toBe(200);
    expect((await f.download())[0].toString()).toBe('tampered');
  });

  it('does not check the expiry of V4 signed URLs', async () => {
    const f = storage.bucket(name).file('signed-expired');
    await f.save('x', { resumable: false });
    const [url] = await f.getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 1000 });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fetch(url)).status).toBe(200);
  });
});
