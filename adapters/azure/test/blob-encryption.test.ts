// What the Azure Blob adapter sends for encryption at rest, checked on the wire through a
// recording proxy in front of Azurite: Azurite accepts encryption scopes but reports none (gap
// azurite-encryption-scope-not-reported). Customer-provided keys need https (the SDK refuses
// them on http), so on Azurite the capability is not declared and must be UNSUPPORTED.
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { azureBucket } from '@polycloud/azure/blob';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from '@polycloud/conformance';
import { type Bucket, isPolycloudError } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCpkRefusal } from '../src/blob/driver.js';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
const KiB = 1024;

describe.skipIf(notRun !== undefined)('Azure Blob encryption on the wire (Azurite)', () => {
  let proxy: RecordingProxy;
  let viaProxy: string;

  beforeAll(async () => {
    const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(connectionString!)![1]!;
    const origin = new URL(blobEndpoint).origin;
    proxy = await startRecordingProxy(origin);
    viaProxy = connectionString!.replace(blobEndpoint, blobEndpoint.replace(origin, proxy.url));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  async function fresh(): Promise<Bucket> {
    const name = `pc-${rand()}`;
    await BlobServiceClient.fromConnectionString(connectionString!).getContainerClient(name).create();
    return azureBucket({ container: name, connectionString: viaProxy });
  }
  const what = (r: RecordedRequest) => `${r.method} ${r.path.slice(0, 90)}`;
  async function during(fn: () => Promise<unknown>): Promise<RecordedRequest[]> {
    proxy.clear();
    await fn();
    return [...proxy.requests];
  }

  it('an encryption scope goes on Put Blob, every Put Block, Put Block List and a copy', async () => {
    const b = await fresh();
    const scope = 'polycloud-scope';
    const encryption = { kmsKeyId: scope };
    const scoped = (r: RecordedRequest) => r.headers['x-ms-encryption-scope'] === scope;
    const single = await during(() => b.put('small', 'x', { encryption }));
    expect(single.filter((r) => r.method === 'PUT').every(scoped), single.map(what).join('\n')).toBe(true);
    const blocks = await during(() =>
      b.put(
        'big',
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(300 * KiB));
            c.close();
          },
        }),
        { encryption, partSize: 100 * KiB },
      ),
    );
    const puts = blocks.filter((r) => r.method === 'PUT');
    expect(puts.filter((r) => /comp=block(&|$)/.test(r.path)).length).toBe(3);
    expect(puts.some((r) => /comp=blocklist/.test(r.path))).toBe(true);
    for (const r of puts) expect(scoped(r), what(r)).toBe(true);
    const copy = await during(() => b.copy('big', 'c', { encryption }));
    const copyPuts = copy.filter((r) => r.method === 'PUT');
    expect(copyPuts.length).toBeGreaterThan(0);
    for (const r of copyPuts) expect(scoped(r), what(r)).toBe(true);
    expect((await b.getBytes('c')).byteLength).toBe(300 * KiB);
  });

  it('signedRequest: an encryption scope travels as a header with the SAS URL', async () => {
    const b = await fresh();
    const put = await b.signedRequest('s', {
      method: 'PUT',
      expiresIn: 60,
      encryption: { kmsKeyId: 'polycloud-scope' },
    });
    expect(put.headers['x-ms-encryption-scope']).toBe('polycloud-scope');
    const sent = await during(async () => {
      const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'scoped' });
      expect(res.status).toBe(201);
    });
    expect(sent.map((r) => r.headers['x-ms-encryption-scope'])).toEqual(['polycloud-scope']);
    expect(await b.getText('s')).toBe('scoped');
  });

  it('customer keys are not declared on http and are rejected before any request', async () => {
    const b = await fresh();
    expect(b.capabilities.encryptionCustomerKey).toBe(false);
    const reqs = await during(async () => {
      const err = await b.put('k', 'x', { encryption: { customerKey: new Uint8Array(32) } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    });
    expect(reqs).toEqual([]);
  });
});

describe('CPK refusals (Azure answers no emulator reproduces)', () => {
  const rest = (statusCode: number, code: string) => new RestError(code, { statusCode, code });
  it('409 BlobUsesCustomerSpecifiedEncryption and key mismatches, nothing else', () => {
    expect(isCpkRefusal(rest(409, 'BlobUsesCustomerSpecifiedEncryption'))).toBe(true);
    expect(isCpkRefusal(rest(409, 'BlobCustomerSpecifiedEncryptionMismatch'))).toBe(true);
    expect(isCpkRefusal(rest(409, 'BlobAlreadyExists'))).toBe(false);
    expect(isCpkRefusal(rest(404, 'BlobNotFound'))).toBe(false);
  });
});
