import { createHash } from 'node:crypto';
import { open, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { md5Base64 } from '@polycloud/core';
import { memoryBucket, resetMemory } from '@polycloud/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardBytes } from '../src/body.js';
import { uploadParts } from '../src/index.js';

const pattern = (off: number, n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((off + i) * 7) % 253;
  return b;
};

/**
 * A byte stream of `total` bytes. `byob`: the source writes only into the reader's buffer
 * (no autoAllocateChunkSize, so a default reader could not read it at all) in reads of at most
 * `chunk`; otherwise it enqueues fresh `chunk`-sized arrays, as fetch bodies do.
 */
function byteSource(total: number, chunk: number, byob: boolean): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(c) {
      const req = c.byobRequest;
      if (sent >= total) {
        c.close();
        req?.respond(0);
        return;
      }
      if (byob) {
        if (!req?.view) throw new Error('byob source read without a BYOB request');
        const n = Math.min(chunk, total - sent, req.view.byteLength);
        new Uint8Array(req.view.buffer, req.view.byteOffset, n).set(pattern(sent, n));
        sent += n;
        req.respond(n);
        return;
      }
      const n = Math.min(chunk, total - sent);
      c.enqueue(pattern(sent, n));
      sent += n;
    },
  }) as ReadableStream<Uint8Array>;
}

afterEach(() => resetMemory());

describe('uploadParts on byte streams (BYOB into the part buffer)', () => {
  for (const byob of [true, false]) {
    for (const [total, chunk, partSize] of [
      [10_000, 333, 1024],
      [8192, 1024, 1024],
      [5000, 4096, 1000],
      [0, 16, 64],
    ] as const) {
      it(`${byob ? 'byobRequest' : 'enqueueing'} source, ${total} B in ${chunk} B reads, parts of ${partSize}`, async () => {
        const seen: Uint8Array[] = [];
        const buffers = new Set<number>();
        const { totalBytes, results } = await uploadParts(
          byteSource(total, chunk, byob),
          { partSize, concurrency: 2, reuseBuffers: true },
          async (part, n) => {
            await new Promise((r) => setTimeout(r, n % 3));
            seen[n - 1] = part.slice();
            buffers.add(n);
            return n;
          },
        );
        expect(totalBytes).toBe(total);
        const parts = Math.max(1, Math.ceil(total / partSize));
        expect(results).toEqual(Array.from({ length: parts }, (_, i) => i + 1));
        expect(seen.slice(0, -1).every((p) => p.byteLength === partSize)).toBe(true);
        const all = new Uint8Array(total);
        let off = 0;
        for (const p of seen) {
          all.set(p, off);
          off += p.byteLength;
        }
        expect(off).toBe(total);
        expect(all).toEqual(pattern(0, total));
      });
    }
  }

  it('a failing part cancels the byte stream', async () => {
    let cancelled: unknown;
    const stream = new ReadableStream({
      type: 'bytes',
      pull(c) {
        c.enqueue(new Uint8Array(512));
      },
      cancel(reason) {
        cancelled = reason;
      },
    }) as ReadableStream<Uint8Array>;
    await expect(
      uploadParts(stream, { partSize: 1024, concurrency: 1 }, async (_p, n) => {
        if (n === 2) throw new Error('part 2 failed');
      }),
    ).rejects.toThrow('part 2 failed');
    expect(cancelled).toBeInstanceOf(Error);
  });
});

describe('forwardBytes', () => {
  it('replays the head, then forwards, to BYOB and default readers alike', async () => {
    for (const mode of ['byob', 'default'] as const) {
      const src = byteSource(5000, 700, true);
      const head = pattern(0, 0);
      const seen: number[] = [];
      const s = forwardBytes(src.getReader({ mode: 'byob' }), {
        head,
        onChunk: (c) => seen.push(c.byteLength),
      });
      const out: number[] = [];
      if (mode === 'byob') {
        const r = s.getReader({ mode: 'byob' });
        let buf = new Uint8Array(1000);
        for (;;) {
          const { done, value } = await r.read(buf);
          if (value === undefined || done) break;
          out.push(...value);
          buf = new Uint8Array(value.buffer);
        }
      } else {
        const r = s.getReader();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          out.push(...value);
        }
      }
      expect(Uint8Array.from(out)).toEqual(pattern(0, 5000));
      expect(seen.reduce((a, b) => a + b, 0)).toBe(5000);
    }
  });
});

describe('Bucket.put with a byte stream body', () => {
  for (const byob of [true, false]) {
    for (const total of [0, 900, 1024, 1025, 5000]) {
      it(`${byob ? 'byobRequest' : 'enqueueing'} source of ${total} B (partSize 1024), with and without md5`, async () => {
        const bucket = memoryBucket(undefined, { partSize: 1024 });
        const want = pattern(0, total);
        await bucket.put('k', byteSource(total, 300, byob));
        expect(await bucket.getBytes('k')).toEqual(want);
        const md5 = md5Base64(want);
        await bucket.put('m', byteSource(total, 300, byob), { md5 });
        expect(await bucket.getBytes('m')).toEqual(want);
        await expect(
          bucket.put('bad', byteSource(total, 300, byob), { md5: md5Base64(pattern(1, 3)) }),
        ).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        expect(await bucket.exists('bad')).toBe(false);
      });
    }
  }

  it('a byte stream that fails mid-upload fails the put and leaves nothing', async () => {
    const bucket = memoryBucket(undefined, { partSize: 1024 });
    let sent = 0;
    const failing = new ReadableStream({
      type: 'bytes',
      pull(c) {
        if (sent >= 3000) throw new Error('source broke');
        c.enqueue(pattern(sent, 500));
        sent += 500;
      },
    }) as ReadableStream<Uint8Array>;
    await expect(bucket.put('x', failing)).rejects.toThrow('source broke');
    expect(await bucket.exists('x')).toBe(false);
  });

  it('aborting a put of an endless byte stream rejects with CANCELLED and cancels the source', async () => {
    const bucket = memoryBucket(undefined, { partSize: 1024 });
    const ac = new AbortController();
    let cancelled = false;
    let sent = 0;
    const endless = new ReadableStream({
      type: 'bytes',
      async pull(c) {
        await new Promise((r) => setTimeout(r, 1));
        if (sent > 4096) ac.abort();
        c.enqueue(new Uint8Array(256));
        sent += 256;
      },
      cancel() {
        cancelled = true;
      },
    }) as ReadableStream<Uint8Array>;
    await expect(bucket.put('y', endless, { signal: ac.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(cancelled).toBe(true);
    expect(await bucket.exists('y')).toBe(false);
  });

  it('a FileHandle web stream (Node byte stream that fills the reader buffer)', async () => {
    const file = path.join(tmpdir(), `pc-byte-stream-${process.pid}.bin`);
    const want = pattern(3, 300_000);
    await writeFile(file, want);
    const fh = await open(file);
    try {
      const bucket = memoryBucket(undefined, { partSize: 64 * 1024 });
      const body = fh.readableWebStream() as unknown as ReadableStream<Uint8Array>;
      await bucket.put('f', body);
      const got = await bucket.getBytes('f');
      expect(createHash('sha256').update(got).digest('hex')).toBe(
        createHash('sha256').update(want).digest('hex'),
      );
    } finally {
      await fh.close();
      await unlink(file);
    }
  });
});
