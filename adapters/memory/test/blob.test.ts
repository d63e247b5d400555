import { type Bucket, isPolycloudError, md5Base64, utf8 } from '@polycloud/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryBucket, resetMemory } from '../src/index.js';

let bucket: Bucket;
beforeEach(() => {
  bucket = memoryBucket();
});
afterEach(() => resetMemory());

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isPolycloudError(err)) return err.code;
    throw err;
  }
}

/** A stream of `n` chunks of `size` bytes; optional hook before each chunk. */
function chunks(
  n: number,
  size: number,
  before?: (i: number) => Promise<void> | void,
): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i >= n) {
        c.close();
        return;
      }
      await before?.(i);
      c.enqueue(new Uint8Array(size).fill(i % 256));
      i++;
    },
  });
}

describe('memory bucket', () => {
  it('reports md5, quoted etags that change on every write, and headers', async () => {
    const a = await bucket.put('k', 'same', { contentType: 'text/plain', metadata: { Color: 'red' } });
    const b = await bucket.put('k', 'same');
    expect(a.etag).toMatch(/^".+"$/);
    expect(b.etag).not.toBe(a.etag);
    expect(a.md5).toBe(md5Base64(utf8('same')));
    expect(a.metadata).toEqual({ color: 'red' });
    const h = await bucket.head('k');
    expect(h.etag).toBe(b.etag);
    expect(h.contentType).toBe('application/octet-stream');
    expect(h.metadata).toEqual({});
  });

  it('streams in parts: nothing is visible until commit, and conditions are checked at commit', async () => {
    await bucket.put('k', 'v0');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = (await bucket.head('k')).etag;
    const slow = bucket.put(
      'k',
      chunks(8, 1000, (i) => (i === 4 ? gate : undefined)),
      { partSize: 1024, ifMatch: first },
    );
    await new Promise((r) => setTimeout(r, 20));
    // Still the old object while the upload runs.
    expect(await bucket.getText('k')).toBe('v0');
    await bucket.put('k', 'v1');
    release();
    expect(await code(slow)).toBe('PRECONDITION_FAILED');
    expect(await bucket.getText('k')).toBe('v1');

    const created = await bucket.put('new', chunks(8, 1000), { partSize: 1024, ifNoneMatch: '*' });
    expect(created.size).toBe(8000);
    expect(created.md5).toBe(md5Base64(await bucket.getBytes('new')));
    expect(await code(bucket.put('new', chunks(8, 1000), { partSize: 1024, ifNoneMatch: '*' }))).toBe(
      'PRECONDITION_FAILED',
    );
  });

  it('leaves nothing behind when a stream fails, aborts, or its checksum is wrong', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(5000));
        c.error(new Error('disk gone'));
      },
    });
    expect(await code(bucket.put('a', broken, { partSize: 1024 }))).toBeDefined();
    expect(await bucket.exists('a')).toBe(false);

    const ac = new AbortController();
    const p = bucket.put(
      'b',
      chunks(10, 1000, (i) => {
        if (i === 3) ac.abort();
      }),
      { partSize: 1024, signal: ac.signal },
    );
    expect(await code(p)).toBe('CANCELLED');
    expect(await bucket.exists('b')).toBe(false);

    const bad = md5Base64(utf8('something else'));
    expect(await code(bucket.put('c', chunks(8, 1000), { partSize: 1024, md5: bad }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await bucket.exists('c')).toBe(false);
    expect(await code(bucket.put('c', chunks(8, 1000), { partSize: 1024, crc32c: 'AAAAAA==' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await bucket.exists('c')).toBe(false);
  });

  it('reads ranges, truncating past the end', async () => {
    await bucket.put('r', '0123456789');
    const t = (range: { offset: number; length?: number }) => bucket.getText('r', { range });
    expect(await t({ offset: 2, length: 3 })).toBe('234');
    expect(await t({ offset: 8, length: 10 })).toBe('89');
    expect(await t({ offset: 7 })).toBe('789');
    expect(await t({ offset: 10 })).toBe('');
    expect(await t({ offset: 50, length: 2 })).toBe('');
    expect(await t({ offset: 0, length: 0 })).toBe('');
    const r = await bucket.get('r', { range: { offset: 2, length: 3 } });
    expect(r.info.size).toBe(10);
  });

  it('applies ifMatch to get, delete and copy', async () => {
    const { etag } = await bucket.put('k', 'v');
    expect(await bucket.getText('k', { ifMatch: etag })).toBe('v');
    expect(await bucket.getText('k', { ifMatch: etag.slice(1, -1) })).toBe('v');
    expect(await code(bucket.get('k', { ifMatch: '"nope"' }))).toBe('PRECONDITION_FAILED');
    expect(await code(bucket.get('missing', { ifMatch: etag }))).toBe('NOT_FOUND');
    expect(await code(bucket.copy('k', 'c', { ifMatch: '"nope"' }))).toBe('PRECONDITION_FAILED');
    await bucket.copy('k', 'c', { ifMatch: etag });
    expect(await code(bucket.copy('k', 'c', { ifNoneMatch: '*' }))).toBe('PRECONDITION_FAILED');
    expect(await code(bucket.delete('k', { ifMatch: '"nope"' }))).toBe('PRECONDITION_FAILED');
    expect(await code(bucket.delete('missing', { ifMatch: etag }))).toBe('NOT_FOUND');
    await bucket.delete('missing');
    await bucket.delete('k', { ifMatch: etag });
    expect(await bucket.exists('k')).toBe(false);
    expect(await code(bucket.put('k', 'v', { ifMatch: etag }))).toBe('PRECONDITION_FAILED');
    expect(await code(bucket.copy('missing', 'x'))).toBe('NOT_FOUND');
  });

  it('copies without aliasing and never hands out stored bytes', async () => {
    const data = new Uint8Array([1, 2, 3]);
    await bucket.put('src', data, { contentType: 'x/y', metadata: { a: 'b' }, cacheControl: 'no-cache' });
    data[0] = 9;
    const info = await bucket.copy('src', 'dst');
    expect(info.contentType).toBe('x/y');
    expect(info.metadata).toEqual({ a: 'b' });
    expect(info.cacheControl).toBe('no-cache');
    expect(info.etag).not.toBe((await bucket.head('src')).etag);
    const read = await bucket.getBytes('dst');
    read[1] = 9;
    await bucket.put('src', 'changed');
    expect([...(await bucket.getBytes('dst'))]).toEqual([1, 2, 3]);
  });

  it('lists by UTF-8 bytes with delimiters and stable cursors', async () => {
    const keys = ['a', 'b/1', 'b/2', 'b/3/x', 'c', '\u{1F600}', '\uFFFD', 'é'];
    for (const k of keys) await bucket.put(k, k);
    const all = [];
    for await (const it of bucket.entries({ limit: 2 })) all.push(it.key);
    expect(all).toEqual(['a', 'b/1', 'b/2', 'b/3/x', 'c', 'é', '\uFFFD', '\u{1F600}']);

    const p1 = await bucket.list({ delimiter: '/', limit: 2 });
    expect(p1.items.map((i) => i.key)).toEqual(['a']);
    expect(p1.prefixes).toEqual(['b/']);
    // Changes between pages: keys present throughout are neither repeated nor skipped.
    await bucket.put('b/0', 'new');
    await bucket.put('bb', 'new');
    await bucket.delete('c');
    const p2 = await bucket.list({ delimiter: '/', limit: 2, cursor: p1.cursor! });
    expect(p2.items.map((i) => i.key)).toEqual(['bb', 'é']);
    const p3 = await bucket.list({ delimiter: '/', limit: 2, cursor: p2.cursor! });
    expect(p3.items.map((i) => i.key)).toEqual(['\uFFFD', '\u{1F600}']);
    expect(p3.cursor).toBeUndefined();

    const sub = await bucket.list({ prefix: 'b/', delimiter: '/' });
    expect(sub.items.map((i) => i.key)).toEqual(['b/0', 'b/1', 'b/2']);
    expect(sub.prefixes).toEqual(['b/3/']);
    expect(await code(bucket.list({ cursor: 'garbage!' }))).toBe('INVALID_ARGUMENT');
  });

  it('deletes many and rejects signed URLs as unsupported', async () => {
    await bucket.put('a', '1');
    await bucket.put('b', '2');
    const r = await bucket.deleteMany(['a', 'b', 'missing']);
    expect(r.every((x) => x.ok)).toBe(true);
    expect((await bucket.list()).items).toEqual([]);
    expect(bucket.capabilities.signedUrlMethods).toEqual([]);
    expect(await code(bucket.signedUrl('a', { expiresIn: 60 }))).toBe('UNSUPPORTED');
  });

  it('round-trips odd keys byte-exact', async () => {
    const odd = ['../x', '//', 'a b', '#?%+', 'ünï/cødé', '\u{10FFFF}'];
    for (const k of odd) await bucket.put(k, k);
    for (const k of odd) expect(await bucket.getText(k)).toBe(k);
  });
});
