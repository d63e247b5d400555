import { afterEach, describe, expect, it } from 'vitest';
import { isPolycloudError, openBucket, openKv, openQueue, setModuleLoader, urlParams } from '../src/index.js';

const original = setModuleLoader((s) => import(s));
afterEach(() => {
  setModuleLoader(original);
});

async function errorOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('opening by URL', () => {
  it('names the package to install when an adapter is missing', async () => {
    setModuleLoader(async () => {
      throw Object.assign(new Error("Cannot find package '@polycloud/aws'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    const err = await errorOf(openBucket('s3://bucket'));
    expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('npm install @polycloud/aws');
  });

  it('names the missing SDK peer dependency, or the missing file of an unbuilt adapter', async () => {
    const failWith = (message: string) =>
      setModuleLoader(async () => {
        throw Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });
      });
    failWith(
      "Cannot find package '@google-cloud/bigtable' imported from /app/node_modules/@polycloud/gcp/dist/bigtable/driver.js",
    );
    let err = await errorOf(openKv('bigtable://projects/p/instances/i/tables/t'));
    expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toBe(
      'the kv adapter @polycloud/gcp/bigtable needs @google-cloud/bigtable, which is not installed: run `npm install @google-cloud/bigtable`',
    );
    failWith("Cannot find package 'some-peer' imported from /x.js");
    err = await errorOf(openQueue('azqueue://jobs'));
    expect((err as Error).message).toContain(
      'needs some-peer, which is not installed: run `npm install some-peer`',
    );
    failWith(
      "Cannot find module '/repo/adapters/aws/dist/s3/index.js' imported from /repo/packages/core/dist/internal/loader.js",
    );
    err = await errorOf(openBucket('s3://bucket'));
    expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('is installed but a file of it is missing');
    expect((err as Error).message).toContain('npm run build');
  });

  it('rejects unknown schemes and schemes of another service', async () => {
    expect(isPolycloudError(await errorOf(openBucket('ftp://x')), 'INVALID_ARGUMENT')).toBe(true);
    expect(isPolycloudError(await errorOf(openQueue('s3://x')), 'INVALID_ARGUMENT')).toBe(true);
    expect(isPolycloudError(await errorOf(openKv('not a url')), 'INVALID_ARGUMENT')).toBe(true);
  });

  it('refuses credentials in URLs without echoing them', async () => {
    const err = await errorOf(openBucket('s3://AKIA:secret@bucket'));
    expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).not.toContain('secret');
  });

  it('calls the module opener with the parsed URL', async () => {
    let seen: URL | undefined;
    setModuleLoader(async (spec) => {
      expect(spec).toBe('@polycloud/aws/s3');
      return {
        openBucketDriver: async (u: URL) => {
          seen = u;
          throw new Error('stop here');
        },
      };
    });
    const err = await errorOf(openBucket('s3://bkt?region=eu-west-1'));
    expect(seen?.hostname).toBe('bkt');
    expect(isPolycloudError(err, 'UNKNOWN')).toBe(true);
  });

  it('rejects a misspelt or unknown open option instead of ignoring it', async () => {
    const cases = [
      [openBucket('mem://o-b', { timeout: 5000 } as never), 'openBucket: unknown option "timeout"'],
      [openQueue('mem://o-q', { visibilityTimeoutSeconds: 5 } as never), 'openQueue: unknown option'],
      [openKv('mem://o-k', { namespace: 'x' } as never), 'openKv: unknown option "namespace"'],
    ] as const;
    for (const [p, text] of cases) {
      const e = await errorOf(p);
      expect(isPolycloudError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toContain(text);
      expect((e as Error).message).toContain('driverOptions');
    }
    const ok = await openBucket('mem://o-b', {
      timeoutMs: 1000,
      attemptTimeoutMs: 500,
      idleTimeoutMs: 500,
      retry: { maxAttempts: 2 },
      partSize: 5 * 1024 * 1024,
      concurrency: 2,
      driverOptions: {},
    });
    await ok.close();
  });

  it('urlParams rejects unknown and repeated parameters', () => {
    expect(urlParams(new URL('s3://b?region=x'), ['region'], 'blob')).toEqual({ region: 'x' });
    expect(() => urlParams(new URL('s3://b?regoin=x'), ['region'], 'blob')).toThrow(
      /unknown URL parameter "regoin"/,
    );
    expect(() => urlParams(new URL('s3://b?region=x&region=y'), ['region'], 'blob')).toThrow(/twice/);
  });

  it('an empty URL parameter is INVALID_ARGUMENT naming it, on every adapter', async () => {
    expect(() => urlParams(new URL('s3://b?region='), ['region'], 'blob')).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(
          /URL parameter "region" is empty in s3:\/\/b\?region=; give it a value/,
        ),
      }),
    );
    expect(() => urlParams(new URL('s3://b?endpoint'), ['endpoint'], 'blob')).toThrow(/"endpoint" is empty/);
    // Through openBucket: the check sits in the kit every adapter's URL parsing uses.
    await expect(openKv('mem://empty-param?namespace=')).rejects.toThrow(/"namespace" is empty/);
  });
});
