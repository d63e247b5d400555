import { randomUUID } from 'node:crypto';
import { type Cookie, HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { azureEventGrid, azureHttp, azureStorageQueue, azureTimer } from '@polycloud/azure/functions';
import type { FunctionsHarness } from '@polycloud/conformance';
import { openBucket, openQueue, type PortableFunction } from '@polycloud/core';
import '@polycloud/memory';
import { azuriteTarget, rand } from './emulator.js';

/**
 * Library-level Azure Functions: the Functions host cannot be installed here, so the
 * @azure/functions library's own HttpRequest, HttpResponse and InvocationContext are driven
 * with inputs shaped as the host sends them. Fixtures: Microsoft Learn, "Azure Queue storage
 * trigger for Azure Functions" (message metadata: id, dequeueCount, insertionTime,
 * popReceipt; host.json messageEncoding "none"), "Azure Blob Storage as an Event Grid source"
 * (BlobCreated / BlobDeleted event schema), "Timer trigger" (timer object), "HTTP trigger".
 */

const silent = () => {};

function context(functionName: string, triggerMetadata: Record<string, unknown> = {}) {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    triggerMetadata,
    logHandler: silent,
  });
}

/** The node worker parses JSON trigger data into values; other text stays a string. */
function workerValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Set-Cookie text for a Cookie object, as the host writes it. */
function serializeCookie(c: Cookie): string {
  let s = `${c.name}=${c.value}`;
  if (c.domain) s += `; Domain=${c.domain}`;
  if (c.path) s += `; Path=${c.path}`;
  if (c.expires !== undefined) s += `; Expires=${new Date(c.expires).toUTCString()}`;
  if (c.maxAge !== undefined) s += `; Max-Age=${c.maxAge}`;
  if (c.secure) s += '; Secure';
  if (c.httpOnly) s += '; HttpOnly';
  if (c.sameSite) s += `; SameSite=${c.sameSite}`;
  return s;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

export function azureFunctionsHarness(): FunctionsHarness {
  const { connectionString, notRun } = azuriteTarget();
  return {
    adapter: 'azure',
    emulator: 'azurite',
    reportName: 'azure-functions',
    runtime: 'library-level',
    notRun,
    binding: '@polycloud/azure/functions',
    provider: 'azure',
    hasDeadline: true,
    async http(fn) {
      if (fn.kind !== 'http') throw new Error('not an HTTP function');
      const handler = azureHttp(fn, { timeoutSeconds: 230 });
      return {
        async fetch(req) {
          const headers: Record<string, string> = {};
          req.headers.forEach((v, k) => {
            headers[k] = v;
          });
          const bytes = new Uint8Array(await req.arrayBuffer());
          const request = new HttpRequest({
            method: req.method,
            url: req.url,
            headers,
            ...(bytes.byteLength > 0 ? { body: { bytes } } : {}),
          });
          // The library turns the returned init into an HttpResponse; the host writes cookies as Set-Cookie.
          const res = new HttpResponse(await handler(request, context('http')));
          const out = new Headers();
          res.headers.forEach((v, k) => {
            out.append(k, v);
          });
          for (const c of res.cookies) out.append('set-cookie', serializeCookie(c));
          const body = new Uint8Array(await res.arrayBuffer());
          return new Response(NULL_BODY.has(res.status) ? null : body, { status: res.status, headers: out });
        },
        async close() {},
      };
    },
    async queue() {
      const admin = QueueServiceClient.fromConnectionString(connectionString!);
      const name = `pc-fn-${rand()}`;
      const client = admin.getQueueClient(name);
      await client.create();
      const claimCheck = await openBucket(`mem://claims-${rand()}`);
      const queue = await openQueue(`azqueue://${name}`, {
        driverOptions: { connectionString },
        claimCheck: { bucket: claimCheck },
      });
      return {
        queue,
        claimCheck,
        async deliver(fn) {
          if (fn.kind !== 'queue') throw new Error('not a queue function');
          const handler = azureStorageQueue(fn, { timeoutSeconds: 300 });
          const r = await client.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 30 });
          const failed: string[] = [];
          for (const m of r.receivedMessageItems) {
            const ctx = context(name, {
              queueTrigger: m.messageText,
              id: m.messageId,
              dequeueCount: m.dequeueCount,
              insertionTime: m.insertedOn.toISOString(),
              expirationTime: m.expiresOn.toISOString(),
              nextVisibleTime: m.nextVisibleOn.toISOString(),
              popReceipt: m.popReceipt,
            });
            try {
              await handler(workerValue(m.messageText), ctx);
              await client.deleteMessage(m.messageId, m.popReceipt);
            } catch {
              // The host makes a failed message visible again (visibilityTimeout 0 by default).
              failed.push(m.messageId);
              await client.updateMessage(m.messageId, m.popReceipt, undefined, 0);
            }
          }
          return { failed };
        },
        async cleanup() {
          await queue.close();
          await claimCheck.close();
          await client.deleteIfExists();
        },
      };
    },
    async schedule(fn) {
      if (fn.kind !== 'schedule') throw new Error('not a schedule function');
      const now = new Date();
      await azureTimer(fn)(
        {
          isPastDue: false,
          schedule: { adjustForDST: false },
          scheduleStatus: {
            last: new Date(now.getTime() - 300_000).toISOString(),
            next: new Date(now.getTime() + 300_000).toISOString(),
            lastUpdated: now.toISOString(),
          },
        },
        context('timer'),
      );
    },
    async blob(fn) {
      const admin = BlobServiceClient.fromConnectionString(connectionString!);
      const name = `pc-fn-${rand()}`;
      const container = admin.getContainerClient(name);
      await container.create();
      const bucket = await openBucket(`azblob://${name}`, { driverOptions: { connectionString } });
      const handler = azureEventGrid(fn);
      const stored = async () => {
        for await (const b of container.listBlobsFlat()) return b;
        throw new Error(`no blob in ${name}`);
      };
      const event = (eventType: string, blobName: string, data: Record<string, unknown>) => ({
        topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`,
        subject: `/blobServices/default/containers/${name}/blobs/${blobName}`,
        eventType,
        eventTime: new Date().toISOString(),
        id: randomUUID(),
        data: {
          api: eventType.endsWith('Created') ? 'PutBlob' : 'DeleteBlob',
          requestId: randomUUID(),
          contentType: 'application/octet-stream',
          blobType: 'BlockBlob',
          url: `${container.url}/${encodeURIComponent(blobName)}`,
          sequencer: '00000000000000000000000000000000000000000000000',
          storageDiagnostics: { batchId: randomUUID() },
          ...data,
        },
        dataVersion: '',
        metadataVersion: '1',
      });
      return {
        bucket,
        async put(key, body) {
          await bucket.put(key, body);
          const b = await stored();
          await handler(
            event('Microsoft.Storage.BlobCreated', b.name, {
              eTag: b.properties.etag,
              contentLength: b.properties.contentLength,
            }),
            context('blob'),
          );
        },
        async remove(key) {
          const b = await stored();
          await bucket.delete(key);
          await handler(event('Microsoft.Storage.BlobDeleted', b.name, {}), context('blob'));
        },
        async cleanup() {
          await bucket.close();
          await container.deleteIfExists();
        },
      };
    },
    async malformed(fn: PortableFunction) {
      try {
        switch (fn.kind) {
          case 'http':
            await azureHttp(fn)({ hello: 'world' } as unknown as HttpRequest, context('http'));
            break;
          case 'queue':
            await azureStorageQueue(fn)('text', context('queue', {}));
            break;
          case 'schedule':
            await azureTimer(fn)({ hello: 'world' } as never, context('timer'));
            break;
          case 'blob':
            await azureEventGrid(fn)({ eventType: 'Microsoft.Storage.Unknown' } as never, context('blob'));
            break;
        }
        return undefined;
      } catch (err) {
        return err;
      }
    },
  };
}
