import { randomBytes } from 'node:crypto';
import {
  decodeOrderedBytes,
  decodeTableKey,
  encodeOrderedBytes,
  encodeTableKey,
  MAX_KEY_BYTES,
  prefixRange,
} from '@polycloud/azure/table';
import { KV_KEY_CASES } from '@polycloud/conformance';
import { describe, expect, it } from 'vitest';

const byUtf16 = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('RowKey encoding (ordered base64)', () => {
  it('round-trips every conformance key', () => {
    for (const [, make] of KV_KEY_CASES) {
      const key = make(MAX_KEY_BYTES);
      expect(decodeTableKey(encodeTableKey(key))).toBe(key);
    }
  });

  it('uses only characters Azure allows in keys and filters, within 512 characters', () => {
    for (const [, make] of KV_KEY_CASES) {
      const rk = encodeTableKey(make(MAX_KEY_BYTES));
      expect(rk).toMatch(/^[-0-9A-Z_a-z]*$/);
      expect(rk.length).toBeLessThanOrEqual(512);
    }
    expect(encodeTableKey('k'.repeat(MAX_KEY_BYTES)).length).toBe(512);
  });

  it('keeps the byte order of keys, prefixes first', () => {
    const samples = Array.from(
      { length: 3000 },
      () => new Uint8Array(randomBytes(Math.floor(Math.random() * 7))),
    );
    // Shared prefixes, so that prefix relations are exercised too.
    samples.push(
      new Uint8Array([1]),
      new Uint8Array([1, 0]),
      new Uint8Array([1, 0, 0]),
      new Uint8Array([0xff]),
      new Uint8Array([]),
    );
    const byBytes = [...samples].sort((a, b) => Buffer.compare(a, b)).map((b) => encodeOrderedBytes(b));
    const byEncoding = samples.map((b) => encodeOrderedBytes(b)).sort(byUtf16);
    expect(byEncoding).toEqual(byBytes);
  });

  it('decodes only what it encodes', () => {
    for (let n = 0; n < 40; n++) {
      const b = new Uint8Array(randomBytes(n));
      expect(decodeOrderedBytes(encodeOrderedBytes(b))).toEqual(b);
    }
    expect(decodeOrderedBytes('-')).toBeUndefined(); // no length of bytes encodes to 1 character
    expect(decodeOrderedBytes('0z')).toBeUndefined(); // non-zero padding bits
    expect(decodeOrderedBytes('a/b')).toBeUndefined();
  });

  it('selects exactly the keys under a prefix with [lo, hi)', () => {
    const keys = ['a', 'a/', 'a/x', 'a/😀', 'a.', 'a0', 'b/x', '`', 'ab', 'a/\u{10FFFF}', 'a0\x00'];
    for (const prefix of ['a', 'a/', 'a/😀', 'ab', '`', 'é']) {
      const { lo, hi } = prefixRange(prefix)!;
      const inRange = keys.filter((k) => {
        const rk = encodeTableKey(k);
        return rk >= lo && rk < hi;
      });
      expect(inRange.sort()).toEqual(keys.filter((k) => k.startsWith(prefix)).sort());
    }
    expect(prefixRange('')).toBeUndefined();
  });
});

describe('Cosmos DB for Table', () => {
  it('is recognised by its endpoint and gets the smaller key limit', async () => {
    const { TableClient, AzureNamedKeyCredential } = await import('@azure/data-tables');
    const { azureKv, isCosmosEndpoint, COSMOS_KV_CAPABILITIES } = await import('@polycloud/azure/table');
    expect(isCosmosEndpoint('https://acct.table.cosmos.azure.com:443/')).toBe(true);
    expect(isCosmosEndpoint('https://acct.table.core.windows.net')).toBe(false);
    const cred = new AzureNamedKeyCredential('acct', Buffer.from('key').toString('base64'));
    const cosmos = azureKv({ client: new TableClient('https://acct.table.cosmos.azure.com', 't', cred) });
    expect(cosmos.capabilities).toBe(COSMOS_KV_CAPABILITIES);
    expect(cosmos.capabilities.maxKeyBytes).toBe(191);
    // 191 bytes of key fit Cosmos DB's 255-byte RowKey.
    expect(encodeTableKey('k'.repeat(191)).length).toBeLessThanOrEqual(255);
    const storage = azureKv({ client: new TableClient('https://acct.table.core.windows.net', 't', cred) });
    expect(storage.capabilities.maxKeyBytes).toBe(MAX_KEY_BYTES);
    expect(
      azureKv({ client: new TableClient('https://x.example', 't', cred), cosmos: true }).capabilities
        .maxKeyBytes,
    ).toBe(191);
  });
});
