import { MemoryBucketDriver, MemoryBucketStore } from '@polycloud/memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isPolycloudError,
  openBucket,
  openKv,
  registeredSchemes,
  registerScheme,
  setModuleLoader,
} from '../src/index.js';

const undo: (() => void)[] = [];
afterEach(() => {
  for (const u of undo.splice(0)) u();
});

describe('registerScheme', () => {
  it('plugs a third-party adapter into openBucket through openers', async () => {
    const seen: string[] = [];
    undo.push(
      registerScheme('acme', {
        openBucketDriver: async (url) => {
          seen.push(url.href);
          return new MemoryBucketDriver(new MemoryBucketStore(url.hostname));
        },
        examples: { blob: 'acme://bucket' },
      }),
    );
    const bucket = await openBucket('acme://photos');
    await bucket.put('k', 'v');
    expect(await bucket.getText('k')).toBe('v');
    expect(seen).toEqual(['acme://photos']);
    expect(registeredSchemes().acme?.services).toEqual(['blob']);
    // It serves only what it registered, and the error lists it among the examples.
    const e = await openKv('acme://t').catch((x: unknown) => x);
    expect(isPolycloudError(e, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('loads a registered module lazily, like the built-in schemes', async () => {
    const loaded: string[] = [];
    const prev = setModuleLoader(async (spec) => {
      loaded.push(spec);
      return { openBucketDriver: async () => new MemoryBucketDriver(new MemoryBucketStore('lazy')) };
    });
    undo.push(() => setModuleLoader(prev));
    undo.push(registerScheme('lazy', { module: '@acme/polycloud-lazy', services: ['blob'] }));
    expect(loaded).toEqual([]);
    await openBucket('lazy://x');
    expect(loaded).toEqual(['@acme/polycloud-lazy']);
  });

  it('the built-in table is registered the same way and cannot be replaced by accident', () => {
    const schemes = registeredSchemes();
    expect(schemes.s3).toEqual({ module: '@polycloud/aws/s3', services: ['blob'] });
    expect(schemes.file?.module).toBe('@polycloud/local');
    expect(schemes.local?.services).toEqual(['queue', 'kv']);
    const e = (() => {
      try {
        registerScheme('s3', { module: 'x' });
      } catch (err) {
        return err;
      }
    })();
    expect(isPolycloudError(e, 'ALREADY_EXISTS')).toBe(true);
    undo.push(registerScheme('s3', { module: '@acme/s3' }, { replace: true }));
    expect(registeredSchemes().s3?.module).toBe('@acme/s3');
  });

  it('rejects bad registrations with INVALID_ARGUMENT', () => {
    for (const [scheme, reg] of [
      ['Bad Scheme', { module: 'x' }],
      ['ok', {}],
      ['ok', { openBucketDriver: 42 }],
      ['ok', { module: 'x', services: ['files'] }],
    ] as const) {
      expect(() => registerScheme(scheme, reg as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
