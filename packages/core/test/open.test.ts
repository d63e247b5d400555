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

  it('urlParams rejects unknown and repeated parameters', () => {
    expect(urlParams(new URL('s3://b?region=x'), ['region'], 'blob')).toEqual({ region: 'x' });
    expect(() => urlParams(new URL('s3://b?regoin=x'), ['region'], 'blob')).toThrow(
      /unknown URL parameter "regoin"/,
    );
    expect(() => urlParams(new URL('s3://b?region=x&region=y'), ['region'], 'blob')).toThrow(/twice/);
  });
});
