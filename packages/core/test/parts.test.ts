import { describe, expect, it } from 'vitest';
import { multipartUpload } from '../src/driver/index.js';
import { isPolycloudError, pcError, uploadParts } from '../src/index.js';

function source(total: number, chunk: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(chunk, total - sent);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (sent + i) % 251;
      sent += n;
      c.enqueue(b);
    },
  });
}

describe('uploadParts', () => {
  it('splits into exact parts in order and reassembles byte-exact', async () => {
    const seen: Uint8Array[] = [];
    const { results, totalBytes } = await uploadParts(
      source(10_000, 333),
      { partSize: 1024, concurrency: 3 },
      async (part, n) => {
        seen[n - 1] = part.slice();
        return n;
      },
    );
    expect(totalBytes).toBe(10_000);
    expect(results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.slice(0, 9).every((p) => p.byteLength === 1024)).toBe(true);
    expect(seen[9]!.byteLength).toBe(10_000 - 9 * 1024);
    const all = new Uint8Array(10_000);
    let off = 0;
    for (const p of seen) {
      all.set(p, off);
      off += p.byteLength;
    }
    expect(all.every((v, i) => v === i % 251)).toBe(true);
  });

  it('never has more than `concurrency` uploads in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    await uploadParts(source(64 * 1024, 1000), { partSize: 4096, concurrency: 2 }, async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    });
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });

  it('reuseBuffers: at most concurrency + 1 part buffers, each part byte-exact when sent', async () => {
    const buffers = new Set<ArrayBufferLike>();
    const seen: Uint8Array[] = [];
    await uploadParts(
      source(40_000, 700),
      { partSize: 1024, concurrency: 3, reuseBuffers: true },
      async (part, n) => {
        buffers.add(part.buffer);
        // Read the bytes after a wait, as a request on the wire would: no later part overwrites them.
        await new Promise((r) => setTimeout(r, (n * 7) % 5));
        seen[n - 1] = part.slice();
      },
    );
    expect(seen).toHaveLength(40);
    expect(buffers.size).toBeLessThanOrEqual(4);
    let off = 0;
    for (const p of seen) {
      expect(p.every((v, i) => v === (off + i) % 251)).toBe(true);
      off += p.byteLength;
    }
    expect(off).toBe(40_000);
  });

  it('without reuseBuffers every part keeps its own bytes (callers may keep them)', async () => {
    const kept: Uint8Array[] = [];
    await uploadParts(source(8192, 512), { partSize: 1024, concurrency: 2 }, async (part, n) => {
      kept[n - 1] = part;
    });
    expect(new Set(kept.map((p) => p.buffer)).size).toBe(8);
    expect(kept.every((p, n) => p.every((v, i) => v === (n * 1024 + i) % 251))).toBe(true);
  });

  it('uploads one empty part for an empty stream', async () => {
    const sizes: number[] = [];
    await uploadParts(source(0, 1), { partSize: 16, concurrency: 1 }, async (p) => {
      sizes.push(p.byteLength);
    });
    expect(sizes).toEqual([0]);
  });

  it('stops reading and rethrows when a part fails', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(1024));
      },
    });
    await expect(
      uploadParts(stream, { partSize: 1024, concurrency: 2 }, async (_p, n) => {
        if (n === 3) throw new Error('part 3 failed');
      }),
    ).rejects.toThrow('part 3 failed');
    expect(pulled).toBeLessThan(20);
  });

  it('rejects with CANCELLED when the caller aborts', async () => {
    const ac = new AbortController();
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(512));
      },
    });
    const p = uploadParts(
      stream,
      { partSize: 1024, concurrency: 1, signal: ac.signal },
      async (_p, n, signal) => {
        if (n === 2) ac.abort();
        await new Promise((r) => setTimeout(r, 1));
        if (signal.aborted) throw signal.reason;
      },
    );
    const err = await p.catch((e: unknown) => e);
    expect(isPolycloudError(err, 'CANCELLED')).toBe(true);
  });
});

describe('multipartUpload lends each part until its upload resolves', () => {
  const opts = (partSize: number, concurrency: number) => ({
    contentType: undefined,
    contentEncoding: undefined,
    contentDisposition: undefined,
    cacheControl: undefined,
    metadata: {},
    ifNoneMatch: undefined,
    ifMatch: undefined,
    md5: undefined,
    crc32c: undefined,
    partSize,
    concurrency,
    beforeCommit: () => {},
    signal: undefined,
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
  });

  it('commits byte-exact parts from at most concurrency + 1 buffers, retried parts included', async () => {
    const buffers = new Set<ArrayBufferLike>();
    const sent = new Map<number, Uint8Array>();
    let failedOnce = false;
    let committed: Uint8Array | undefined;
    const info = await multipartUpload(
      source(50_000, 900),
      undefined,
      opts(4096, 3),
      {
        limits: { minPartBytes: 1, maxPartBytes: 1 << 20, maxParts: 100 },
        create: async () => 'upload-1',
        uploadPart: async (_u, part, n) => {
          buffers.add(part.buffer);
          // A slow request: the bytes are read after other parts were launched.
          await new Promise((r) => setTimeout(r, (n * 5) % 7));
          if (n === 2 && !failedOnce) {
            failedOnce = true;
            throw pcError('UNAVAILABLE', 'part 2 lost its connection', { retryable: true });
          }
          sent.set(n, part.slice());
          return n;
        },
        complete: async (_u, parts, total) => {
          committed = new Uint8Array(total);
          let off = 0;
          for (const n of parts) {
            committed.set(sent.get(n)!, off);
            off += sent.get(n)!.byteLength;
          }
          return {
            key: 'k',
            size: total,
            etag: '"e"',
            contentType: 'application/octet-stream',
            metadata: {},
            lastModified: new Date(0),
          } as never;
        },
        error: (err) => pcError('INTERNAL', String(err)),
      },
      { provider: 'test', name: 'b', key: 'k' },
    );
    expect(failedOnce).toBe(true);
    expect((info as { size: number }).size).toBe(50_000);
    expect(buffers.size).toBeLessThanOrEqual(4);
    expect(committed!.every((v, i) => v === i % 251)).toBe(true);
  });
});
