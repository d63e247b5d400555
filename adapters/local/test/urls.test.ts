import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';
import { localBucket, localKv, localQueue } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'polycloud-local-urls-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isPolycloudError(err)) return err.code;
    throw err;
  }
}

describe('opening by URL', () => {
  it('the friendly constructors and URLs name the same stores', async () => {
    const db = join(root, 'shared.db');
    await using a = await localKv(db, 't', 'ns');
    await a.set('k', 1);
    await using b = await openKv(`local://${pathToFileURL(db).pathname}?table=t&namespace=ns`);
    expect((await b.get('k'))?.value).toBe(1);
    await using other = await openKv(`local://${pathToFileURL(db).pathname}?table=t&namespace=other`);
    expect(await other.get('k')).toBeUndefined();

    await using q = await localQueue<number>(db, 'jobs');
    await q.send(7);
    await using q2 = await openQueue<number>(`local://${pathToFileURL(db).pathname}?queue=jobs`);
    expect((await q2.receive()).map((m) => m.body)).toEqual([7]);

    const dir = join(root, 'files');
    await using bucket = await localBucket(dir);
    await bucket.put('k', 'v');
    await using bucket2 = await openBucket(pathToFileURL(dir).href);
    expect(await bucket2.getText('k')).toBe('v');
  });

  it('paths with spaces, #, ? and % work through the constructors and URLs', async () => {
    const dir = join(root, 'odd name #1 ?x %41');
    await using kv = await localKv(join(dir, 'a b.db'), 't');
    await kv.set('k', 'odd');
    await using same = await openKv(`local://${pathToFileURL(join(dir, 'a b.db')).pathname}?table=t`);
    expect((await same.get('k'))?.value).toBe('odd');
    await using bucket = await localBucket(join(dir, 'files'));
    await bucket.put('k', 'v');
    await using bucket2 = await openBucket(pathToFileURL(join(dir, 'files')).href);
    expect(await bucket2.getText('k')).toBe('v');
    expect(
      readdirSync(dir)
        .filter((f) => !/-(wal|shm)$/.test(f))
        .sort(),
    ).toEqual(['a b.db', 'files']);
  });

  it('local:relative/path.db resolves against the working directory', async () => {
    const rel = relative(process.cwd(), join(root, 'relative.db'));
    await using kv = await openKv(`local:${rel}?table=t`);
    await kv.set('k', 'relative');
    await using same = await localKv(join(root, 'relative.db'), 't');
    expect((await same.get('k'))?.value).toBe('relative');
  });

  it('rejects hosts, unknown parameters and options, and missing names', async () => {
    const db = pathToFileURL(join(root, 'x.db')).pathname;
    expect(await code(openQueue(`local://somehost${db}?queue=q`))).toBe('INVALID_ARGUMENT');
    expect(await code(openQueue(`local://${db}?queue=q&colour=red`))).toBe('INVALID_ARGUMENT');
    expect(await code(openKv(`local://${db}`))).toBe('INVALID_ARGUMENT');
    expect(await code(openKv(`local://${db}?table=t&namespace=`))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucket(`${pathToFileURL(join(root, 'b')).href}?region=x`))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await code(openBucket('file:///'))).toBe('INVALID_ARGUMENT');
    expect(
      await code(openQueue(`local://${db}?queue=q`, { driverOptions: { visibilityTimeoutSeconds: 'soon' } })),
    ).toBe('INVALID_ARGUMENT');
    expect(await code(openKv(`local://${db}?table=t`, { driverOptions: { colour: 'red' } }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
