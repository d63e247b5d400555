import { InvocationContext } from '@azure/functions';
import { encodeBlobName } from '@polycloud/azure/blob';
import {
  type AzureApp,
  azureStorageBlob,
  parseSetCookie,
  queueItemText,
  register,
} from '@polycloud/azure/functions';
import { encodeEnvelopeBytes } from '@polycloud/azure/queue';
import {
  type BlobEvent,
  blobEventFunction,
  httpFunction,
  isPolycloudError,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';
import { describe, expect, it } from 'vitest';

describe('Azure Functions binding details', () => {
  it('registers each kind with the v4 model, the timer in NCRONTAB', () => {
    const calls: [string, string, Record<string, unknown>][] = [];
    const rec = (kind: string) => (name: string, options: object) =>
      calls.push([kind, name, options as Record<string, unknown>]);
    const app = {
      http: rec('http'),
      storageQueue: rec('storageQueue'),
      timer: rec('timer'),
      storageBlob: rec('storageBlob'),
      eventGrid: rec('eventGrid'),
    } as unknown as AzureApp;
    register(
      app,
      'api',
      httpFunction(() => new Response()),
    );
    register(
      app,
      'worker',
      queueFunction(async () => {}),
      { queueName: 'jobs' },
    );
    register(
      app,
      'tick',
      scheduleFunction('*/5 * * * *', async () => {}),
    );
    register(
      app,
      'blobs',
      blobEventFunction(async () => {}),
      { path: 'uploads/{name}' },
    );
    expect(calls.map(([k, n]) => `${k}:${n}`)).toEqual([
      'http:api',
      'storageQueue:worker',
      'timer:tick',
      'storageBlob:blobs',
    ]);
    expect(calls[1]![2]).toMatchObject({ queueName: 'jobs', connection: 'AzureWebJobsStorage' });
    expect(calls[2]![2]).toMatchObject({ schedule: '0 */5 * * * *' });
    let err: unknown;
    try {
      register(
        app,
        'w',
        queueFunction(async () => {}),
      );
    } catch (e) {
      err = e;
    }
    expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('a queue item JSON cannot carry (a BigInt, a cycle) is INVALID_ARGUMENT (found by fuzzing)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const item of [{ n: 10n }, cyclic]) {
      let err: unknown;
      try {
        queueItemText(item);
      } catch (e) {
        err = e;
      }
      expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it("blob trigger paths go through the adapter's blob-name decoding", async () => {
    const key = 'dir./name with \\ and trailing.';
    const events: BlobEvent[] = [];
    const handler = azureStorageBlob(blobEventFunction(async (e) => void events.push(e)));
    await handler(
      new Uint8Array(5),
      new InvocationContext({
        invocationId: 'i',
        functionName: 'blobs',
        triggerMetadata: {
          blobTrigger: `uploads/${encodeBlobName(key)}`,
          properties: { contentLength: 5, eTag: '"0x8D"' },
        },
        logHandler: () => {},
      }),
    );
    expect(events[0]).toMatchObject({ type: 'created', bucket: 'uploads', key, size: 5, etag: '0x8D' });
  });

  it('rejects queue items the host base64-decoded (messageEncoding not "none")', () => {
    const decodedByHost = Buffer.from(encodeEnvelopeBytes(new Uint8Array([1]), { a: 'b' })).toString(
      'latin1',
    );
    expect(() => queueItemText(decodedByHost)).toThrowError(/messageEncoding/);
  });

  it('parses Set-Cookie into the Cookie objects the host takes', () => {
    expect(parseSetCookie('sid=abc=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=60')).toEqual({
      name: 'sid',
      value: 'abc=',
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      maxAge: 60,
    });
  });
});
