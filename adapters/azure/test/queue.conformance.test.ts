import { QueueServiceClient } from '@azure/storage-queue';
import { azureQueue } from '@polycloud/azure/queue';
import { queueSuite } from '@polycloud/conformance';
import { openQueue, type Queue } from '@polycloud/core';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
let n = 0;

queueSuite({
  adapter: 'azure',
  emulator: 'azurite',
  reportName: 'azure-queue',
  notRun,
  async open(opts) {
    if (!connectionString) throw new Error('azurite is not available');
    const admin = QueueServiceClient.fromConnectionString(connectionString);
    const names = [`pc-${rand()}`];
    if (opts?.deadLetter) names.push(`pc-dlq-${rand()}`);
    await Promise.all(names.map((name) => admin.getQueueClient(name).create()));
    const vis = opts?.visibilityTimeoutSeconds;
    // Alternate between opening by URL and the typed constructor, so both paths are exercised.
    const byUrl = n++ % 2 === 0;
    const openOne = async (name: string): Promise<Queue<unknown>> =>
      byUrl
        ? openQueue(`azqueue://${name}${vis === undefined ? '' : `?visibilityTimeout=${vis}`}`, {
            driverOptions: { connectionString },
          })
        : azureQueue({
            queue: name,
            connectionString,
            ...(vis === undefined ? {} : { visibilityTimeoutSeconds: vis }),
          });
    const queue = await openOne(names[0]!);
    const deadLetter = names[1] === undefined ? undefined : await openOne(names[1]);
    return {
      queue,
      ...(deadLetter ? { deadLetter } : {}),
      cleanup: async () => {
        await Promise.all(names.map((name) => admin.getQueueClient(name).deleteIfExists()));
      },
    };
  },
});
