import { azureEventGrid, azureStorageBlob, azureStorageQueue, azureTimer } from '@polycloud/azure/functions';
import { fuzzSuite } from '@polycloud/conformance';
import {
  blobEventFunction,
  openBucket,
  openKv,
  openQueue,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';

// Blob, Queue, Table and the Functions bindings fuzzed without Azurite: calls that pass
// validation meet an aborted signal (or, at worst, a closed port with one attempt). The account
// is Azurite's well-known development account.
const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const cs = (service: 'Blob' | 'Queue' | 'Table') =>
  `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};${service}Endpoint=http://127.0.0.1:1/devstoreaccount1;`;
const opts = { retry: { maxAttempts: 1 }, attemptTimeoutMs: 2000 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
// The payload is the event; the host's trigger metadata is fuzzed with it when it is an object.
const bind =
  (h: (input: never, context: never) => unknown) =>
  async (event: unknown): Promise<unknown> =>
    h(
      event as never,
      {
        invocationId: 'fuzz',
        functionName: 'fuzz',
        triggerMetadata: typeof event === 'object' && event !== null ? event : {},
      } as never,
    );

fuzzSuite({
  adapter: 'azure',
  bucket: () => openBucket('azblob://fuzz', { ...opts, driverOptions: { connectionString: cs('Blob') } }),
  queue: () => openQueue('azqueue://fuzz', { ...opts, driverOptions: { connectionString: cs('Queue') } }),
  kv: () => openKv('aztable://fuzz', { ...opts, driverOptions: { connectionString: cs('Table') } }),
  events: {
    azureStorageQueue: bind(
      azureStorageQueue(
        queueFunction(async () => {}),
        { logger: quiet },
      ),
    ),
    azureTimer: bind(
      azureTimer(
        scheduleFunction('*/5 * * * *', async () => {}),
        { logger: quiet },
      ),
    ),
    azureStorageBlob: bind(
      azureStorageBlob(
        blobEventFunction(async () => {}),
        { logger: quiet },
      ),
    ),
    azureEventGrid: bind(
      azureEventGrid(
        blobEventFunction(async () => {}),
        { logger: quiet },
      ),
    ),
  },
  eventSeeds: [
    { id: 'm', dequeueCount: 'x', insertionTime: 'not a date', popReceipt: 1, queueName: {} },
    { blobTrigger: 'c/', uri: 'not a url', properties: { contentLength: -1 } },
    {
      eventType: 'Microsoft.Storage.BlobCreated',
      subject: '/blobServices/default/containers/c/blobs/',
      data: { url: '%%%', contentLength: 'x' },
      eventTime: 'x',
    },
    { isPastDue: 'yes', scheduleStatus: null },
  ],
});
