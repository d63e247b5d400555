import { BlobServiceClient } from '@azure/storage-blob';
import { azureBucket, signedUploadUrl } from '@polycloud/azure/blob';
import { isPolycloudError } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
const container = `pc-sas-${rand()}`;

describe.skipIf(notRun !== undefined)('SAS URLs against Azurite, checked with a plain fetch', () => {
  const admin = () => BlobServiceClient.fromConnectionString(connectionString!).getContainerClient(container);
  const bucket = () => azureBucket({ container, connectionString: connectionString! });

  beforeAll(async () => {
    await admin().create();
  });
  afterAll(async () => {
    await admin().deleteIfExists();
  });

  it('declares GET and DELETE, not PUT', () => {
    expect(bucket().capabilities.signedUrlMethods).toEqual(['GET', 'DELETE']);
  });

  it('a GET URL reads a key with special characters, and expires', async () => {
    const b = bucket();
    const key = 'dir/ünï cødé #?%+&=/😀 a/../b.';
    await b.put(key, 'special', { contentType: 'text/plain' });
    const url = await b.signedUrl(key, { method: 'GET', expiresIn: 2 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('special');
    await new Promise((r) => setTimeout(r, 3000));
    expect((await fetch(url)).status).toBeGreaterThanOrEqual(400);
  });

  it('a DELETE URL deletes, and a GET URL cannot', async () => {
    const b = bucket();
    await b.put('gone', 'x');
    const get = await b.signedUrl('gone', { method: 'GET', expiresIn: 60 });
    expect((await fetch(get, { method: 'DELETE' })).status).toBeGreaterThanOrEqual(400);
    const del = await b.signedUrl('gone', { method: 'DELETE', expiresIn: 60 });
    const res = await fetch(del, { method: 'DELETE' });
    expect(res.status).toBe(202);
    expect(await b.exists('gone')).toBe(false);
  });

  it('signedUrl PUT is rejected with UNSUPPORTED: Put Blob needs x-ms-blob-type', async () => {
    const b = bucket();
    await expect(b.signedUrl('up', { method: 'PUT', expiresIn: 60 })).rejects.toSatisfy((e) =>
      isPolycloudError(e, 'UNSUPPORTED'),
    );
    // What a plain PUT to a SAS URL gets from the service: 400 without the header.
    const { url } = await signedUploadUrl(b, 'up', { expiresIn: 60 });
    const bare = await fetch(url, { method: 'PUT', body: 'no header' });
    expect(bare.status).toBe(400);
    expect(await b.exists('up')).toBe(false);
  });

  it('signedUploadUrl gives the URL and the headers a PUT must send', async () => {
    const b = bucket();
    const { url, headers } = await signedUploadUrl(b, 'upload/ü.txt', {
      expiresIn: 60,
      contentType: 'text/plain',
    });
    expect(headers['x-ms-blob-type']).toBe('BlockBlob');
    const res = await fetch(url, { method: 'PUT', body: 'uploaded', headers });
    expect(res.status).toBe(201);
    expect(await b.getText('upload/ü.txt')).toBe('uploaded');
    expect((await b.head('upload/ü.txt')).contentType).toBe('text/plain');
  });
});
