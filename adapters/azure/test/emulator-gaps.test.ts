/**
 * Checks, with raw SDK calls, the Azurite behaviours that conformance/src/emulators/gaps.ts
 * documents as emulator gaps. If one of these starts failing, Azurite changed: remove the gap.
 */
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();

/** Table Storage's documented entity size: 4 + 2·len(PK+RK) + Σ(8 + 2·len(name) + size); binary size = length + 4. */
function serviceEntitySize(pk: string, rk: string, binary: Record<string, Uint8Array>): number {
  let n = 4 + 2 * (pk.length + rk.length);
  for (const [name, v] of Object.entries(binary)) n += 8 + 2 * name.length + v.byteLength + 4;
  return n;
}

describe.skipIf(notRun !== undefined)('azurite/table-entity-size', () => {
  it('Azurite rejects an entity far below 1 MiB by the service formula (it measures the JSON body)', async () => {
    const table = `pcgap${rand().replace(/-/g, '')}`;
    const client = TableClient.fromConnectionString(connectionString!, table, {
      allowInsecureConnection: true,
    });
    await client.createTable();
    try {
      const props: Record<string, Uint8Array> = {};
      for (let i = 0; i < 13; i++) props[`v${i}`] = new Uint8Array(62_000); // 806,000 bytes of binary data
      expect(serviceEntitySize('p', 'r', props)).toBeLessThan(1024 * 1024 * 0.8);
      const err = await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', ...props }, 'Replace').then(
        () => undefined,
        (e: unknown) => e as { statusCode?: number; details?: { odataError?: { code?: string } } },
      );
      expect(err?.statusCode).toBe(400);
      expect(err?.details?.odataError?.code).toBe('EntityTooLarge');
      // Below 3/4 MiB of binary (1 MiB of base64 JSON) it is accepted.
      const small: Record<string, Uint8Array> = {};
      for (let i = 0; i < 11; i++) small[`v${i}`] = new Uint8Array(62_000);
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', ...small }, 'Replace');
    } finally {
      await client.deleteTable();
    }
  });
});
