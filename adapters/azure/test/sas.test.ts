import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
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

  it('declares GET, PUT and DELETE', () => {
    expect(bucket().capabilities.signedUrlMethods).toEqual(['GET', 'PUT', 'DELETE']);
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

  it('signedUrl PUT is the bare SAS URL: Put Blob through it needs x-ms-blob-type', async () => {
    const b = bucket();
    const url = await b.signedUrl('up', { method: 'PUT', expiresIn: 60 });
    // What a plain PUT to a SAS URL gets from the service: 400 without the header.
    const bare = await fetch(url, { method: 'PUT', body: 'no header' });
    expect(bare.status).toBe(400);
    expect(await b.exists('up')).toBe(false);
    const res = await fetch(url, {
      method: 'PUT',
      body: 'with header',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
    });
    expect(res.status).toBe(201);
    expect(await b.getText('up')).toBe('with header');
  });

  it('signedRequest PUT carries x-ms-blob-type and content-type; a plain fetch with them uploads', async () => {
    const b = bucket();
    const req = await b.signedRequest('req/ü #?.txt', {
      method: 'PUT',
      expiresIn: 60,
      contentType: 'text/plain',
    });
    expect(req.method).toBe('PUT');
    expect(req.headers).toEqual({ 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' });
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: 'uploaded' });
    expect(res.status).toBe(201);
    expect(await b.getText('req/ü #?.txt')).toBe('uploaded');
    expect((await b.head('req/ü #?.txt')).contentType).toBe('text/plain');
    // Without contentType only the blob type is needed; the PUT URL may overwrite.
    const again = await b.signedRequest('req/ü #?.txt', { method: 'PUT', expiresIn: 60 });
    expect(again.headers).toEqual({ 'x-ms-blob-type': 'BlockBlob' });
    const res2 = await fetch(again.url, { method: 'PUT', headers: again.headers, body: 'again' });
    expect(res2.status).toBe(201);
    expect(await b.getText('req/ü #?.txt')).toBe('again');
  });

  it('signedRequest GET and DELETE need no headers; a PUT URL cannot read or delete', async () => {
    const b = bucket();
    await b.put('rq', 'content');
    const put = await b.signedRequest('rq', { method: 'PUT', expiresIn: 60 });
    expect((await fetch(put.url)).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(put.url, { method: 'DELETE' })).status).toBeGreaterThanOrEqual(400);
    const get = await b.signedRequest('rq', { method: 'GET', expiresIn: 60 });
    expect(get.headers).toEqual({});
    const res = await fetch(get.url, { method: get.method, headers: get.headers });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('content');
    const del = await b.signedRequest('rq', { method: 'DELETE', expiresIn: 60 });
    expect(del.headers).toEqual({});
    expect((await fetch(del.url, { method: del.method, headers: del.headers })).status).toBe(202);
    expect(await b.exists('rq')).toBe(false);
  });

  it('a client that cannot sign declares no methods and rejects signedRequest with UNSUPPORTED', async () => {
    const b = azureBucket({ client: new ContainerClient(admin().url) });
    expect(b.capabilities.signedUrlMethods).toEqual([]);
    await expect(b.signedRequest('k', { method: 'PUT', expiresIn: 60 })).rejects.toSatisfy((e) =>
      isPolycloudError(e, 'UNSUPPORTED'),
    );
  });

  it('signedUploadUrl (deprecated) gives the URL and the headers a PUT must send', async () => {
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
