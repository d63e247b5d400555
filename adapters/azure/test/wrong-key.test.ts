import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { azureBucket } from '@polycloud/azure/blob';
import { azureQueue } from '@polycloud/azure/queue';
import { azureKv } from '@polycloud/azure/table';
import { describe, expect, it } from 'vitest';
import { connectionStringAccount, connectionStringEndpoint } from '../src/credentials.js';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();

// Issue 18.7: one code for a wrong account key on every service. UNAUTHENTICATED: the service
// could not verify the signature, so the fix is the credential, not a role assignment.
describe.skipIf(notRun !== undefined)('a wrong account key (Azurite)', () => {
  const cs = connectionString!;
  const account = connectionStringAccount(cs)!;
  const accountKey = Buffer.from('not the key').toString('base64');
  const code = (e: unknown) => (e as { code?: unknown }).code;

  it('is UNAUTHENTICATED, not retryable, on blob, queue and table alike', async () => {
    const container = `pc-key-${rand()}`;
    const queue = `pc-key-${rand()}`;
    const table = `pckey${rand().replace(/-/g, '')}`;
    await BlobServiceClient.fromConnectionString(cs).getContainerClient(container).create();
    await QueueServiceClient.fromConnectionString(cs).getQueueClient(queue).create();
    await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).createTable();
    try {
      const opts = (s: 'blob' | 'queue' | 'table') => ({
        account,
        accountKey,
        endpoint: connectionStringEndpoint(cs, s)!,
      });
      const bucket = azureBucket({ container, ...opts('blob'), retry: { maxAttempts: 1 } });
      const q = azureQueue({ queue, ...opts('queue'), retry: { maxAttempts: 1 } });
      const kv = azureKv({ table, ...opts('table'), retry: { maxAttempts: 1 } });
      const failures = await Promise.all([
        bucket.head('k').catch((e: unknown) => e),
        bucket.put('k', 'v').catch((e: unknown) => e),
        q.send(1).catch((e: unknown) => e),
        q.receive().catch((e: unknown) => e),
        kv.get('k').catch((e: unknown) => e),
        kv.set('k', 1).catch((e: unknown) => e),
      ]);
      expect(failures.map(code)).toEqual(new Array(6).fill('UNAUTHENTICATED'));
      for (const f of failures) expect((f as { retryable: boolean }).retryable).toBe(false);
    } finally {
      await BlobServiceClient.fromConnectionString(cs).getContainerClient(container).deleteIfExists();
      await QueueServiceClient.fromConnectionString(cs).getQueueClient(queue).deleteIfExists();
      await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).deleteTable();
    }
  });
});
