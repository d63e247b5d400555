import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  type BlobInfo,
  type BodyInput,
  type Bucket,
  Crc32c,
  copyBetween,
  type GetOptions,
  type ListPage,
  md5Base64,
  type PutOptions,
  type SignedRequest,
  type SignedUrlMethod,
} from '@polycloud/core';
import type { BucketHarness } from '../harness.js';
import { registerEncryptionTests } from './bucket-encryption.js';
import { type RegisterTest, runSuite, type TestCtx } from './framework.js';
import {
  check,
  checkBytes,
  describeError,
  expectCode,
  expectPolycloudError,
  expectUnsupported,
  GeneratedBody,
  hashStream,
  KiB,
  MiB,
  randomData,
  settle,
  sha256,
  showKey,
  sleep,
  sortUtf8,
} from './helpers.js';

/** Keys that must round-trip byte-exact through put, get, head, list and delete. */
export const BLOB_KEY_CASES: readonly (readonly [string, string])[] = [
  ['dot-dot segments', '../a/../b/..'],
  ['double slashes', 'a//b///c'],
  ['leading slash', '/leading/slash'],
  ['trailing slash', 'dir/sub/'],
  ['single dot', '.'],
  ['double dot', '..'],
  ['dot segments', './a/./b/.'],
  ['unicode', 'ünïcødé/日本語/Ελληνικά/😀'],
  ['spaces', ' leading, inner  and trailing spaces '],
  ['URL-reserved characters #?%+&=', 'a#b?c%d+e&f=g;h'],
  ['percent-encoding look-alikes', '%2F%20%25%zz%'],
  ['ASCII punctuation', `!"$'()*,:;<>@[]^\`{|}~`],
  ['backslashes', 'a\\b\\\\c\\'],
  [
    'ASCII control characters',
    `ctl${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}\x7f`,
  ],
  ['NUL character', 'nul\x00inside'],
  ['characters whose UTF-16 and UTF-8 orders differ', '\uFF61\u{1F600}\uE000'],
  ['one byte', 'k'],
  ['1024 ASCII bytes', 'a'.repeat(1023) + 'z'],
  ['1024 bytes of 4-byte characters', '😀'.repeat(256)],
  ['1024 bytes mixing 1- to 4-byte characters', 'aé€😀'.repeat(102) + 'abcd'],
];

/** Keys that must be rejected with INVALID_ARGUMENT before any I/O. */
export const BLOB_INVALID_KEY_CASES: readonly (readonly [string, string])[] = [
  ['empty', ''],
  ['1025 ASCII bytes', 'a'.repeat(1025)],
  ['1025 bytes in 1024 UTF-16 code units', 'a'.repeat(1023) + 'é'],
  ['lone high surrogate', 'a\uD800b'],
  ['lone low surrogate', '\uDC00'],
];

const te = new TextEncoder();
const utf8 = (s: string) => te.encode(s);

/**
 * The blob storage conformance suite. Every test opens a fresh, empty bucket with `h.open()`.
 *
 * @example
 * bucketSuite({ adapter: 'memory', emulator: null, open: async () => ({ bucket: memoryBucket() }) });
 */
export function bucketSuite(h: BucketHarness): void {
  runSuite(h, 'blob', (test) => registerBucketTests(h, test));
}

function registerBucketTests(h: BucketHarness, test: RegisterTest): void {
  const open = async (t: TestCtx): Promise<Bucket> => {
    const { bucket, cleanup } = await h.open();
    t.defer(async () => {
      try {
        await cleanup?.();
      } finally {
        await bucket.close();
      }
    });
    return bucket;
  };
  /** Part size that forces a multipart upload while staying above the provider's minimum. */
  const partSizeOf = (b: Bucket) => Math.max(5 * MiB, b.capabilities.minPartBytes);

  // ---------------------------------------------------------------- keys

  for (const [label, key] of BLOB_KEY_CASES) {
    test(`keys: ${label} round-trips through put, get, head, list and delete`, async (t) => {
      const b = await open(t);
      const body = utf8(`content of ${JSON.stringify(key)}`);
      const put = await b.put(key, body);
      check(put.key === key, `put returned key ${showKey(put.key)}, expected ${showKey(key)}`);
      const r = await b.get(key);
      check(r.info.key === key, `get returned key ${showKey(r.info.key)}, expected ${showKey(key)}`);
      checkBytes(await r.bytes(), body, `get ${showKey(key)}`);
      const head = await b.head(key);
      check(head.key === key, `head returned key ${showKey(head.key)}`);
      check(head.size === body.byteLength, `head size ${head.size}, expected ${body.byteLength}`);
      check(await b.exists(key), `exists(${showKey(key)}) is false after put`);
      const all = await listAll(b, {});
      check(
        all.length === 1 && all[0] === key,
        `list returned ${JSON.stringify(all.map(showKey))}, expected exactly [${showKey(key)}]`,
      );
      const byPrefix = await listAll(b, { prefix: key });
      check(
        byPrefix.includes(key),
        `list with the key as prefix did not return it (got ${byPrefix.map(showKey)})`,
      );
      await b.delete(key);
      check(!(await b.exists(key)), `exists(${showKey(key)}) is still true after delete`);
      check((await listAll(b, {})).length === 0, 'the bucket is not empty after delete');
    });
  }

  for (const [label, key] of BLOB_INVALID_KEY_CASES) {
    test(`keys: ${label} key is rejected with INVALID_ARGUMENT`, async (t) => {
      const b = await open(t);
      const aborted = AbortSignal.abort();
      const ops: [string, () => Promise<unknown>][] = [
        ['put', () => b.put(key, 'x', { signal: aborted })],
        ['get', () => b.get(key, { signal: aborted })],
        ['head', () => b.head(key, { signal: aborted })],
        ['exists', () => b.exists(key, { signal: aborted })],
        ['delete', () => b.delete(key, { signal: aborted })],
        ['deleteMany', () => b.deleteMany(['valid', key], { signal: aborted })],
        ['copy (source)', () => b.copy(key, 'dst', { signal: aborted })],
        ['copy (destination)', () => b.copy('src', key, { signal: aborted })],
      ];
      for (const [op, fn] of ops) await expectCode('INVALID_ARGUMENT', fn, `${op} with a ${label} key`);
      check((await listAll(b, {})).length === 0, 'something was written');
    });
  }

  // ---------------------------------------------------------------- body kinds

  const bodyKinds: [
    string,
    () => Promise<{ body: BodyInput; expected: Uint8Array; cleanup?: () => Promise<void> }>,
  ][] = [
    [
      'string',
      async () => {
        const s = 'héllo wörld 😀 日本\n'.repeat(2000);
        return { body: s, expected: utf8(s) };
      },
    ],
    [
      'Uint8Array',
      async () => {
        const d = randomData(100 * KiB + 7);
        return { body: d, expected: d };
      },
    ],
    [
      'Uint8Array view into a larger buffer',
      async () => {
        const big = randomData(64 * KiB);
        const view = big.subarray(13, 13 + 40 * KiB + 3);
        return { body: view, expected: view.slice() };
      },
    ],
    [
      'Buffer',
      async () => {
        const d = randomData(50 * KiB + 1);
        return { body: Buffer.from(d), expected: d };
      },
    ],
    [
      'ArrayBuffer',
      async () => {
        const d = randomData(33 * KiB + 5);
        return { body: d.slice().buffer as ArrayBuffer, expected: d };
      },
    ],
    [
      'Blob',
      async () => {
        const d = randomData(70 * KiB + 9);
        return { body: new Blob([d]), expected: d };
      },
    ],
    [
      'Web ReadableStream',
      async () => {
        const d = randomData(200 * KiB + 11);
        return { body: chunkedStream(d, 7 * KiB + 3), expected: d };
      },
    ],
    [
      'AsyncIterable',
      async () => {
        const d = randomData(150 * KiB + 1);
        return { body: chunkedIterable(d, 10 * KiB + 1), expected: d };
      },
    ],
    [
      'Node Readable',
      async () => {
        const d = randomData(120 * KiB + 3);
        return { body: Readable.from(chunkedIterable(d, 9 * KiB), { objectMode: false }), expected: d };
      },
    ],
    [
      'Node fs.ReadStream',
      async () => {
        const d = randomData(300 * KiB + 17);
        const dir = await mkdtemp(join(tmpdir(), 'polycloud-conformance-'));
        const file = join(dir, 'body.bin');
        await writeFile(file, d);
        return {
          body: createReadStream(file, { highWaterMark: 16 * KiB }),
          expected: d,
          cleanup: () => rm(dir, { recursive: true, force: true }),
        };
      },
    ],
  ];
  for (const [label, make] of bodyKinds) {
    test(`bodies: ${label} body round-trips`, async (t) => {
      const b = await open(t);
      const { body, expected, cleanup } = await make();
      if (cleanup) t.defer(cleanup);
      const info = await b.put('body', body, { contentType: 'application/octet-stream' });
      check(
        info.size === expected.byteLength,
        `put reported size ${info.size}, expected ${expected.byteLength}`,
      );
      checkBytes(await b.getBytes('body'), expected, `get after put of a ${label}`);
      const head = await b.head('body');
      check(head.size === expected.byteLength, `head size ${head.size}, expected ${expected.byteLength}`);
    });
  }

  test("bodies: a Blob's type is the default content type; an explicit contentType wins", async (t) => {
    const b = await open(t);
    await b.put('typed.png', new Blob(['png?'], { type: 'image/png' }));
    const typed = await b.head('typed.png');
    check(typed.contentType === 'image/png', `content type ${typed.contentType}, expected image/png`);
    await b.put('explicit', new Blob(['{}'], { type: 'text/plain' }), {
      contentType: 'application/json',
    });
    const explicit = await b.head('explicit');
    check(
      explicit.contentType === 'application/json',
      `content type ${explicit.contentType}, expected the explicit application/json`,
    );
  });

  test('bodies: unsupported body type is rejected with INVALID_ARGUMENT', async (t) => {
    const b = await open(t);
    await expectCode('INVALID_ARGUMENT', () => b.put('k', 42 as unknown as BodyInput), 'put of a number');
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.put('k', { a: 1 } as unknown as BodyInput),
      'put of a plain object',
    );
    check(!(await b.exists('k')), 'a rejected body was written');
  });

  test('bodies: a stream yielding non-byte chunks fails and writes nothing', async (t) => {
    const b = await open(t);
    const bad = new ReadableStream<unknown>({
      start(c) {
        c.enqueue(utf8('ok so far'));
        c.enqueue({ not: 'bytes' });
        c.close();
      },
    });
    await expectPolycloudError(
      () => b.put('k', bad as ReadableStream<Uint8Array>),
      'put of a stream yielding objects',
    );
    check(!(await b.exists('k')), 'a failed upload left an object');
  });

  // ---------------------------------------------------------------- sizes

  const sizeTest = (
    label: string,
    size: number,
    mode: 'bytes' | 'stream' | 'blob',
    opts: { timeout?: number; exactParts?: boolean; alsoByteStream?: boolean } = {},
  ) =>
    test(
      `sizes: ${label}`,
      async (t) => {
        const b = await open(t);
        const partSize = partSizeOf(b);
        const n = opts.exactParts ? 2 * partSize : size;
        let expectedHash: string;
        let body: BodyInput;
        let gen: GeneratedBody | undefined;
        if (mode === 'stream') {
          gen = new GeneratedBody(n);
          body = gen.stream();
          expectedHash = '';
        } else {
          const d = randomData(n);
          expectedHash = sha256(d);
          body = mode === 'blob' ? new Blob([d]) : d;
        }
        const info = await b.put('obj', body, { partSize, concurrency: 2 });
        if (gen) expectedHash = gen.sha256;
        check(info.size === n, `put reported size ${info.size}, expected ${n}`);
        const head = await b.head('obj');
        check(head.size === n, `head size ${head.size}, expected ${n}`);
        const r = await b.get('obj');
        check(r.info.size === n, `get info.size ${r.info.size}, expected ${n}`);
        const got = await hashStream(r.body);
        check(got.size === n, `read back ${got.size} bytes, expected ${n}`);
        check(got.sha256 === expectedHash, `content hash differs after a ${n}-byte ${mode} upload`);
        const listed = (await b.list()).items.find((i) => i.key === 'obj');
        check(listed?.size === n, `list reports size ${listed?.size}, expected ${n}`);
        if (opts.alsoByteStream) {
          // The same size from a byte stream (type 'bytes'), which core reads with a BYOB reader.
          const bytes = new GeneratedBody(n);
          const put = await b.put('obj-bytes', bytes.byteStream(), { partSize, concurrency: 2 });
          check(put.size === n, `byte stream: put reported size ${put.size}, expected ${n}`);
          const back = await hashStream((await b.get('obj-bytes')).body);
          check(back.size === n, `byte stream: read back ${back.size} bytes, expected ${n}`);
          check(back.sha256 === bytes.sha256, `byte stream: content hash differs after a ${n}-byte upload`);
        }
      },
      { timeout: opts.timeout ?? 120_000 },
    );
  sizeTest('0 bytes', 0, 'bytes');
  sizeTest('0 bytes from an empty stream', 0, 'stream');
  sizeTest('1 byte', 1, 'bytes');
  sizeTest('5 MiB + 1 byte in memory', 5 * MiB + 1, 'bytes');
  sizeTest('5 MiB + 1 byte streamed with unknown length (multipart)', 5 * MiB + 1, 'stream', {
    alsoByteStream: true,
  });
  sizeTest('two full parts streamed, an exact multiple of the part size (multipart)', 0, 'stream', {
    exactParts: true,
  });
  sizeTest('20 MiB streamed in 5 MiB parts (multipart)', 20 * MiB, 'stream', { timeout: 240_000 });
  sizeTest('12 MiB Blob of known length (multipart)', 12 * MiB, 'blob', { timeout: 180_000 });

  // ---------------------------------------------------------------- ranges

  const RANGE_OBJECT = 1000;
  const rangeTest = (
    label: string,
    range: { offset: number; length?: number },
    from: number,
    to: number,
    size = RANGE_OBJECT,
  ) =>
    test(`ranges: ${label}`, async (t) => {
      const b = await open(t);
      const data = randomData(size);
      if (!b.capabilities.rangeRead) {
        await expectUnsupported(t, 'rangeRead', (signal) => b.get('obj', { range, signal }));
        return;
      }
      await b.put('obj', data);
      const r = await b.get('obj', { range });
      checkBytes(
        await r.bytes(),
        data.subarray(from, to),
        `get with range ${JSON.stringify(range)} of a ${size}-byte object`,
      );
    });
  rangeTest('offset and length', { offset: 100, length: 50 }, 100, 150);
  rangeTest('first byte', { offset: 0, length: 1 }, 0, 1);
  rangeTest('last byte', { offset: RANGE_OBJECT - 1, length: 1 }, RANGE_OBJECT - 1, RANGE_OBJECT);
  rangeTest('offset only reads to the end', { offset: 990 }, 990, RANGE_OBJECT);
  rangeTest('length past the end is truncated', { offset: 990, length: 100 }, 990, RANGE_OBJECT);
  rangeTest('offset at the end yields an empty body', { offset: RANGE_OBJECT }, 0, 0);
  rangeTest('offset past the end yields an empty body', { offset: RANGE_OBJECT + 5000, length: 10 }, 0, 0);
  rangeTest('zero length yields an empty body', { offset: 10, length: 0 }, 0, 0);
  rangeTest('on an empty object yields an empty body', { offset: 0 }, 0, 0, 0);

  test('ranges: missing key fails with NOT_FOUND', async (t) => {
    const b = await open(t);
    if (!b.capabilities.rangeRead) {
      await expectUnsupported(t, 'rangeRead', (signal) =>
        b.get('missing', { range: { offset: 0, length: 1 }, signal }),
      );
      return;
    }
    await expectCode(
      'NOT_FOUND',
      () => b.get('missing', { range: { offset: 0, length: 1 } }),
      'ranged get of a missing key',
    );
  });

  // ---------------------------------------------------------------- metadata and headers

  test('headers: contentType round-trips through head and get', async (t) => {
    const b = await open(t);
    await b.put('doc', '{"a":1}', { contentType: 'application/json; charset=utf-8' });
    const head = await b.head('doc');
    check(head.contentType === 'application/json; charset=utf-8', `head contentType ${head.contentType}`);
    const r = await b.get('doc');
    check(r.info.contentType === 'application/json; charset=utf-8', `get contentType ${r.info.contentType}`);
    check((await r.json<{ a: number }>()).a === 1, 'json() did not parse the body');
  });

  test('headers: contentEncoding gzip is stored and the body is returned as stored', async (t) => {
    const b = await open(t);
    const raw = gzipSync(utf8('compress me '.repeat(500)));
    if (!b.capabilities.contentEncoding) {
      await expectUnsupported(t, 'contentEncoding', (signal) =>
        b.put('z', raw, { contentEncoding: 'gzip', signal }),
      );
      check(!(await b.exists('z')), 'a rejected put wrote the object');
      return;
    }
    await b.put('z', raw, { contentType: 'text/plain', contentEncoding: 'gzip' });
    check((await b.head('z')).contentEncoding === 'gzip', 'head did not report contentEncoding gzip');
    checkBytes(await b.getBytes('z'), raw, 'get of a gzip-encoded object (must not be decompressed)');
  });

  test('headers: values an HTTP header cannot carry are rejected before any I/O', async (t) => {
    const b = await open(t);
    const cases: [string, PutOptions][] = [
      ['contentType with CR/LF', { contentType: 'text/plain\r\nx-injected: 1' }],
      ['contentType with LF', { contentType: 'text/plain\nx-injected: 1' }],
      ['contentEncoding with NUL', { contentEncoding: 'gzip\u0000' }],
      ['contentDisposition with CR/LF', { contentDisposition: 'inline\r\nx-injected: 1' }],
      ['cacheControl with CR', { cacheControl: 'no-cache\r' }],
      ['a metadata value with CR/LF', { metadata: { a: 'x\r\nx-injected: 1' } }],
      ['a metadata value with a control character', { metadata: { a: 'bell\u0007' } }],
    ];
    for (const [label, opts] of cases) {
      await expectCode('INVALID_ARGUMENT', () => b.put('injected', 'v', opts), `put with ${label}`);
    }
    check(!(await b.exists('injected')), 'a rejected put left an object behind');
  });

  test('headers: contentDisposition round-trips', async (t) => {
    const b = await open(t);
    const cd = 'attachment; filename="report 2024.pdf"';
    if (!b.capabilities.contentDisposition) {
      await expectUnsupported(t, 'contentDisposition', (signal) =>
        b.put('d', 'x', { contentDisposition: cd, signal }),
      );
      return;
    }
    await b.put('d', 'x', { contentDisposition: cd });
    const got = (await b.head('d')).contentDisposition;
    check(got === cd, `head contentDisposition ${got}`);
    check((await b.get('d')).info.contentDisposition === cd, 'get info.contentDisposition differs');
  });

  test('headers: cacheControl round-trips', async (t) => {
    const b = await open(t);
    const cc = 'public, max-age=3600';
    if (!b.capabilities.cacheControl) {
      await expectUnsupported(t, 'cacheControl', (signal) => b.put('c', 'x', { cacheControl: cc, signal }));
      return;
    }
    await b.put('c', 'x', { cacheControl: cc });
    const got = (await b.head('c')).cacheControl;
    check(got === cc, `head cacheControl ${got}`);
  });

  test('metadata: keys are lower-cased and unicode values round-trip', async (t) => {
    const b = await open(t);
    const md = {
      'X-Mixed-Case': 'Ünïcødé 😀 日本語',
      plain: 'value with  spaces',
      'dash-and_under': 'a=b&c',
    };
    if (!b.capabilities.metadata) {
      await expectUnsupported(t, 'metadata', (signal) => b.put('m', 'x', { metadata: md, signal }));
      check(!(await b.exists('m')), 'a rejected put wrote the object');
      return;
    }
    const expected = {
      'x-mixed-case': 'Ünïcødé 😀 日本語',
      plain: 'value with  spaces',
      'dash-and_under': 'a=b&c',
    };
    await b.put('m', 'x', { metadata: md });
    checkMetadata((await b.head('m')).metadata, expected, 'head');
    checkMetadata((await b.get('m')).info.metadata, expected, 'get');
  });

  test('metadata: keys differing only by case are rejected with INVALID_ARGUMENT', async (t) => {
    const b = await open(t);
    const md = { Key: 'a', key: 'b' };
    if (!b.capabilities.metadata) {
      await expectUnsupported(t, 'metadata', (signal) => b.put('m', 'x', { metadata: { key: 'a' }, signal }));
      return;
    }
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.put('m', 'x', { metadata: md }),
      'put with metadata keys Key and key',
    );
    check(!(await b.exists('m')), 'a rejected put wrote the object');
  });

  test('metadata: replaced, not merged, on overwrite', async (t) => {
    const b = await open(t);
    if (!b.capabilities.metadata) {
      await expectUnsupported(t, 'metadata', (signal) => b.put('m', 'x', { metadata: { a: '1' }, signal }));
      return;
    }
    await b.put('m', 'one', { metadata: { a: '1', shared: 'old' } });
    await b.put('m', 'two', { metadata: { b: '2', shared: 'new' } });
    checkMetadata((await b.head('m')).metadata, { b: '2', shared: 'new' }, 'head after overwrite');
    await b.put('m', 'three');
    checkMetadata((await b.head('m')).metadata, {}, 'head after overwrite without metadata');
  });

  test(
    'headers: content headers and metadata are kept on the multipart path',
    async (t) => {
      const b = await open(t);
      const caps = b.capabilities;
      const partSize = partSizeOf(b);
      const opts: PutOptions = {
        contentType: 'application/x-conformance',
        ...(caps.contentEncoding ? { contentEncoding: 'identity' } : {}),
        ...(caps.contentDisposition ? { contentDisposition: 'inline; filename="big.bin"' } : {}),
        ...(caps.cacheControl ? { cacheControl: 'no-cache' } : {}),
        ...(caps.metadata ? { metadata: { 'Owner-Name': 'Zoë 😀', n: '2' } } : {}),
        partSize,
      };
      const gen = new GeneratedBody(partSize + 64 * KiB);
      await b.put('big', gen.stream(), opts);
      const head = await b.head('big');
      check(head.size === gen.size, `head size ${head.size}, expected ${gen.size}`);
      check(head.contentType === opts.contentType, `contentType ${head.contentType}`);
      if (caps.contentEncoding)
        check(head.contentEncoding === 'identity', `contentEncoding ${head.contentEncoding}`);
      if (caps.contentDisposition) {
        check(
          head.contentDisposition === opts.contentDisposition,
          `contentDisposition ${head.contentDisposition}`,
        );
      }
      if (caps.cacheControl) check(head.cacheControl === 'no-cache', `cacheControl ${head.cacheControl}`);
      if (caps.metadata)
        checkMetadata(head.metadata, { 'owner-name': 'Zoë 😀', n: '2' }, 'head of a multipart object');
      check((await hashStream((await b.get('big')).body)).sha256 === gen.sha256, 'content differs');
    },
    { timeout: 120_000 },
  );

  test('headers: get reports the same info as head', async (t) => {
    const b = await open(t);
    await b.put('i', 'info', { contentType: 'text/plain' });
    const head = await b.head('i');
    const r = await b.get('i');
    await r.bytes();
    check(r.info.etag === head.etag, `get etag ${r.info.etag} != head etag ${head.etag}`);
    check(r.info.size === head.size, 'get size differs from head size');
    check(r.info.contentType === head.contentType, 'get contentType differs from head');
    check(r.info.key === 'i', 'get info.key differs');
  });

  // ---------------------------------------------------------------- conditional writes

  test('ifNoneMatch: create-only put succeeds when absent and fails when present', async (t) => {
    const b = await open(t);
    if (!b.capabilities.putIfNoneMatch) {
      await expectUnsupported(t, 'putIfNoneMatch', (signal) => b.put('k', 'x', { ifNoneMatch: '*', signal }));
      check(!(await b.exists('k')), 'a rejected put wrote the object');
      return;
    }
    await b.put('k', 'first', { ifNoneMatch: '*' });
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.put('k', 'second', { ifNoneMatch: '*' }),
      'create-only put over an existing key',
    );
    check((await b.getText('k')) === 'first', 'the failed create-only put changed the object');
  });

  test('ifNoneMatch: exactly one of two concurrent single-shot writers wins', async (t) => {
    const b = await open(t);
    if (!b.capabilities.putIfNoneMatch) {
      await expectUnsupported(t, 'putIfNoneMatch', (signal) => b.put('k', 'x', { ifNoneMatch: '*', signal }));
      return;
    }
    const bodies = [randomData(64 * KiB), randomData(64 * KiB)];
    const r = await settle(bodies.map((d) => b.put('race', d, { ifNoneMatch: '*' })));
    checkOneWinner(r, 'single-shot create-only race');
    checkBytes(
      await b.getBytes('race'),
      bodies[r.fulfilled[0]!.index]!,
      'the stored object is not the winner’s',
    );
  });

  test(
    'ifNoneMatch: exactly one of two concurrent multipart writers wins',
    async (t) => {
      const b = await open(t);
      if (!b.capabilities.putIfNoneMatch) {
        await expectUnsupported(t, 'putIfNoneMatch', (signal) =>
          b.put('k', new GeneratedBody(10).stream(), { ifNoneMatch: '*', signal }),
        );
        return;
      }
      const partSize = partSizeOf(b);
      const gens = [new GeneratedBody(partSize + 100 * KiB), new GeneratedBody(partSize + 100 * KiB)];
      const r = await settle(gens.map((g) => b.put('race', g.stream(), { ifNoneMatch: '*', partSize })));
      checkOneWinner(r, 'multipart create-only race');
      const got = await hashStream((await b.get('race')).body);
      check(got.sha256 === gens[r.fulfilled[0]!.index]!.sha256, 'the stored object is not the winner’s');
    },
    { timeout: 120_000 },
  );

  test(
    'ifNoneMatch: multipart put over an existing key fails and leaves it unchanged',
    async (t) => {
      const b = await open(t);
      if (!b.capabilities.putIfNoneMatch) {
        await expectUnsupported(t, 'putIfNoneMatch', (signal) =>
          b.put('k', new GeneratedBody(10).stream(), { ifNoneMatch: '*', signal }),
        );
        return;
      }
      await b.put('k', 'original');
      const partSize = partSizeOf(b);
      await expectCode(
        'PRECONDITION_FAILED',
        () => b.put('k', new GeneratedBody(partSize + KiB).stream(), { ifNoneMatch: '*', partSize }),
        'multipart create-only put over an existing key',
      );
      check((await b.getText('k')) === 'original', 'the failed multipart put changed the object');
    },
    { timeout: 120_000 },
  );

  test('ifMatch: the current etag replaces the object', async (t) => {
    const b = await open(t);
    if (!b.capabilities.putIfMatch) {
      await expectUnsupported(t, 'putIfMatch', (signal) => b.put('k', 'x', { ifMatch: '"etag"', signal }));
      return;
    }
    const first = await b.put('k', 'one');
    const second = await b.put('k', 'two', { ifMatch: first.etag });
    check((await b.getText('k')) === 'two', 'put with the current etag did not replace the object');
    check(second.etag !== first.etag, 'the etag did not change');
  });

  test('ifMatch: a stale etag fails and leaves the object unchanged', async (t) => {
    const b = await open(t);
    if (!b.capabilities.putIfMatch) {
      await expectUnsupported(t, 'putIfMatch', (signal) => b.put('k', 'x', { ifMatch: '"etag"', signal }));
      return;
    }
    const stale = await b.put('k', 'one');
    await b.put('k', 'two');
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.put('k', 'three', { ifMatch: stale.etag }),
      'put with a stale etag',
    );
    check((await b.getText('k')) === 'two', 'a put with a stale etag changed the object');
  });

  test(
    'ifMatch: a stale etag on the multipart path fails and leaves the object unchanged',
    async (t) => {
      const b = await open(t);
      if (!b.capabilities.putIfMatch) {
        await expectUnsupported(t, 'putIfMatch', (signal) =>
          b.put('k', new GeneratedBody(10).stream(), { ifMatch: '"etag"', signal }),
        );
        return;
      }
      const stale = await b.put('k', 'one');
      await b.put('k', 'two');
      const partSize = partSizeOf(b);
      await expectCode(
        'PRECONDITION_FAILED',
        () => b.put('k', new GeneratedBody(partSize + KiB).stream(), { ifMatch: stale.etag, partSize }),
        'multipart put with a stale etag',
      );
      check((await b.getText('k')) === 'two', 'a multipart put with a stale etag changed the object');
    },
    { timeout: 120_000 },
  );

  test(
    'ifMatch: the current etag on the multipart path replaces the object',
    async (t) => {
      const b = await open(t);
      if (!b.capabilities.putIfMatch) {
        await expectUnsupported(t, 'putIfMatch', (signal) =>
          b.put('k', new GeneratedBody(10).stream(), { ifMatch: '"etag"', signal }),
        );
        return;
      }
      const cur = await b.put('k', 'one');
      const partSize = partSizeOf(b);
      const gen = new GeneratedBody(partSize + KiB);
      await b.put('k', gen.stream(), { ifMatch: cur.etag, partSize });
      check(
        (await hashStream((await b.get('k')).body)).sha256 === gen.sha256,
        'content differs after a multipart ifMatch put',
      );
    },
    { timeout: 120_000 },
  );

  test('ifMatch: a missing key fails with PRECONDITION_FAILED and is not created', async (t) => {
    const b = await open(t);
    if (!b.capabilities.putIfMatch) {
      await expectUnsupported(t, 'putIfMatch', (signal) => b.put('k', 'x', { ifMatch: '"etag"', signal }));
      return;
    }
    const other = await b.put('other', 'x');
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.put('k', 'x', { ifMatch: other.etag }),
      'ifMatch put of a missing key',
    );
    check(!(await b.exists('k')), 'ifMatch put created a missing key');
  });

  test('etags: the etag changes when the content changes', async (t) => {
    const b = await open(t);
    const one = await b.put('k', 'one');
    const two = await b.put('k', 'two, longer');
    check(typeof one.etag === 'string' && one.etag.length > 0, 'put returned no etag');
    check(one.etag !== two.etag, `etag ${one.etag} did not change after overwrite`);
    check((await b.head('k')).etag === two.etag, 'head etag differs from the etag put returned');
  });

  test('getIfMatch: the current etag reads, a stale etag fails', async (t) => {
    const b = await open(t);
    if (!b.capabilities.getIfMatch) {
      await expectUnsupported(t, 'getIfMatch', (signal) => b.get('k', { ifMatch: '"etag"', signal }));
      return;
    }
    const stale = await b.put('k', 'one');
    const cur = await b.put('k', 'two');
    check(
      (await b.getText('k', { ifMatch: cur.etag })) === 'two',
      'get with the current etag returned other content',
    );
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.get('k', { ifMatch: stale.etag }),
      'get with a stale etag',
    );
  });

  test('deleteIfMatch: a stale etag fails and keeps the object, the current etag deletes', async (t) => {
    const b = await open(t);
    if (!b.capabilities.deleteIfMatch) {
      await expectUnsupported(t, 'deleteIfMatch', (signal) => b.delete('k', { ifMatch: '"etag"', signal }));
      return;
    }
    const stale = await b.put('k', 'one');
    const cur = await b.put('k', 'two');
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.delete('k', { ifMatch: stale.etag }),
      'delete with a stale etag',
    );
    check(await b.exists('k'), 'delete with a stale etag removed the object');
    await b.delete('k', { ifMatch: cur.etag });
    check(!(await b.exists('k')), 'delete with the current etag did not remove the object');
  });

  test('deleteIfMatch: a missing key fails with PRECONDITION_FAILED or NOT_FOUND', async (t) => {
    const b = await open(t);
    if (!b.capabilities.deleteIfMatch) {
      await expectUnsupported(t, 'deleteIfMatch', (signal) => b.delete('k', { ifMatch: '"etag"', signal }));
      return;
    }
    const other = await b.put('other', 'x');
    await expectCode(
      ['PRECONDITION_FAILED', 'NOT_FOUND'],
      () => b.delete('k', { ifMatch: other.etag }),
      'ifMatch delete of a missing key',
    );
    check(await b.exists('other'), 'ifMatch delete of a missing key removed another object');
  });

  // ---------------------------------------------------------------- listing

  test('list: keys come back in UTF-8 byte order', async (t) => {
    const b = await open(t);
    const keys = [
      'a',
      'B',
      'b',
      'a/b',
      'a-b',
      'a b',
      'aa',
      '\uFF61',
      '\u{1F600}',
      '\uE000',
      '\uFFFD',
      '\u{10000}',
      'é',
      'ÿ',
      'z',
      '~',
      '0',
      '9',
    ];
    await Promise.all(keys.map((k) => b.put(k, k)));
    const expected = sortUtf8(keys);
    const oneShot = (await b.list()).items.map((i) => i.key);
    check(
      sameList(oneShot, expected),
      `list order ${JSON.stringify(oneShot)}, expected ${JSON.stringify(expected)}`,
    );
    const paged = await listAll(b, { limit: 3 });
    check(
      sameList(paged, expected),
      `paged list order ${JSON.stringify(paged)}, expected ${JSON.stringify(expected)}`,
    );
  });

  test('list: prefix selects exactly the matching keys', async (t) => {
    const b = await open(t);
    const keys = ['p/a', 'p/b', 'p/c/d', 'p0', 'pp', 'p', 'q', 'o/p/a'];
    await Promise.all(keys.map((k) => b.put(k, k)));
    const a = await listAll(b, { prefix: 'p/' });
    check(sameList(a, ['p/a', 'p/b', 'p/c/d']), `prefix "p/" listed ${JSON.stringify(a)}`);
    const c = await listAll(b, { prefix: 'p' });
    check(
      sameList(c, sortUtf8(['p', 'p/a', 'p/b', 'p/c/d', 'p0', 'pp'])),
      `prefix "p" listed ${JSON.stringify(c)}`,
    );
    const none = await listAll(b, { prefix: 'zzz' });
    check(none.length === 0, `prefix "zzz" listed ${JSON.stringify(none)}`);
  });

  test('list: unicode prefix', async (t) => {
    const b = await open(t);
    const keys = ['日本/a', '日本/😀', '日本語', '日', 'x/日本/a'];
    await Promise.all(keys.map((k) => b.put(k, k)));
    const got = await listAll(b, { prefix: '日本/' });
    check(sameList(got, sortUtf8(['日本/a', '日本/😀'])), `prefix "日本/" listed ${JSON.stringify(got)}`);
  });

  test('list: small pages visit every key exactly once', async (t) => {
    const b = await open(t);
    const keys = Array.from({ length: 11 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((k) => b.put(k, k)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page: ListPage = await b.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      check(
        page.items.length + page.prefixes.length <= 2,
        `a page with limit 2 held ${page.items.length} items`,
      );
      seen.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
      pages++;
      check(pages <= 20, 'listing did not end after 20 pages of 2 for 11 keys');
    } while (cursor !== undefined);
    check(sameList(seen, keys), `pages listed ${JSON.stringify(seen)}`);
  });

  test(
    'list: pagination stays consistent across concurrent inserts and deletes',
    async (t) => {
      const b = await open(t);
      const name = (i: number) => `k${String(i).padStart(3, '0')}`;
      const stable = Array.from({ length: 15 }, (_, i) => name(i * 2));
      const volatile = Array.from({ length: 15 }, (_, i) => name(i * 2 + 1));
      await Promise.all([...stable, ...volatile].map((k) => b.put(k, k)));
      const seen: string[] = [];
      const deletedAhead = new Set<string>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page: ListPage = await b.list({ limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((i) => i.key));
        cursor = page.cursor;
        pages++;
        check(pages <= 60, 'listing did not end');
        const last = seen[seen.length - 1] ?? '';
        // Churn between pages: delete a volatile key behind the cursor and one ahead of it,
        // insert one behind and one ahead.
        const behind = volatile.find((k) => k < last && !deletedAhead.has(k));
        const ahead = volatile.find((k) => k > last && !deletedAhead.has(k));
        const work: Promise<unknown>[] = [b.put(`${seen[0] ?? 'k'}-behind-${pages}`, 'new')];
        if (last) work.push(b.put(`${last}-ahead-${pages}`, 'new'));
        if (behind) work.push(b.delete(behind));
        if (ahead) {
          deletedAhead.add(ahead);
          work.push(b.delete(ahead));
        }
        await Promise.all(work);
      } while (cursor !== undefined);
      const counts = new Map<string, number>();
      for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
      const dupes = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
      check(dupes.length === 0, `keys listed more than once: ${JSON.stringify(dupes)}`);
      const missing = stable.filter((k) => !counts.has(k));
      check(missing.length === 0, `keys present throughout were not listed: ${JSON.stringify(missing)}`);
      const resurrected = [...deletedAhead].filter((k) => counts.has(k));
      check(
        resurrected.length === 0,
        `keys deleted before the listing reached them were listed: ${JSON.stringify(resurrected)}`,
      );
      for (let i = 1; i < seen.length; i++) {
        check(seen[i - 1]! < seen[i]!, `listing went backwards: ${seen[i - 1]} then ${seen[i]}`);
      }
    },
    { timeout: 120_000 },
  );

  test('list: an empty bucket lists nothing and has no cursor', async (t) => {
    const b = await open(t);
    const page = await b.list();
    check(page.items.length === 0 && page.prefixes.length === 0, 'a fresh bucket is not empty');
    check(page.cursor === undefined, `an empty listing returned cursor ${page.cursor}`);
  });

  test('list: items report size, etag and lastModified as head does', async (t) => {
    const b = await open(t);
    await b.put('a', randomData(123));
    await b.put('b', '');
    const page = await b.list();
    for (const item of page.items) {
      const head = await b.head(item.key);
      check(item.size === head.size, `${item.key}: list size ${item.size}, head size ${head.size}`);
      check(item.etag === head.etag, `${item.key}: list etag ${item.etag}, head etag ${head.etag}`);
      check(
        item.lastModified instanceof Date && !Number.isNaN(item.lastModified.getTime()),
        'lastModified is not a Date',
      );
      check(
        Math.abs(item.lastModified.getTime() - head.lastModified.getTime()) < 1000,
        'list and head lastModified differ',
      );
    }
    check(page.items.length === 2, `listed ${page.items.length} items, expected 2`);
  });

  test('list: delimiter groups keys into common prefixes', async (t) => {
    const b = await open(t);
    if (!b.capabilities.listDelimiter) {
      await expectUnsupported(t, 'listDelimiter', (signal) => b.list({ delimiter: '/', signal }));
      return;
    }
    const keys = ['top', 'dir/a', 'dir/b', 'dir/sub/c', 'dir/sub/d', 'other/x', 'zz'];
    await Promise.all(keys.map((k) => b.put(k, k)));
    const root = await b.list({ delimiter: '/' });
    check(
      sameList(
        root.items.map((i) => i.key),
        ['top', 'zz'],
      ),
      `root items ${JSON.stringify(root.items.map((i) => i.key))}`,
    );
    check(sameList([...root.prefixes], ['dir/', 'other/']), `root prefixes ${JSON.stringify(root.prefixes)}`);
    const dir = await b.list({ prefix: 'dir/', delimiter: '/' });
    check(
      sameList(
        dir.items.map((i) => i.key),
        ['dir/a', 'dir/b'],
      ),
      `dir/ items ${JSON.stringify(dir.items.map((i) => i.key))}`,
    );
    check(sameList([...dir.prefixes], ['dir/sub/']), `dir/ prefixes ${JSON.stringify(dir.prefixes)}`);
  });

  test('list: delimiter listing pages through items and prefixes once each', async (t) => {
    const b = await open(t);
    if (!b.capabilities.listDelimiter) {
      await expectUnsupported(t, 'listDelimiter', (signal) => b.list({ delimiter: '/', limit: 1, signal }));
      return;
    }
    const keys = ['a', 'b/1', 'b/2', 'c', 'd/1', 'e/x/1', 'f'];
    await Promise.all(keys.map((k) => b.put(k, k)));
    const items: string[] = [];
    const prefixes: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page: ListPage = await b.list({ delimiter: '/', limit: 1, ...(cursor ? { cursor } : {}) });
      check(page.items.length + page.prefixes.length <= 1, 'a page with limit 1 held more than one entry');
      items.push(...page.items.map((i) => i.key));
      prefixes.push(...page.prefixes);
      cursor = page.cursor;
      check(++pages <= 30, 'listing did not end');
    } while (cursor !== undefined);
    check(sameList(items, ['a', 'c', 'f']), `items ${JSON.stringify(items)}`);
    check(sameList(prefixes, ['b/', 'd/', 'e/']), `prefixes ${JSON.stringify(prefixes)}`);
  });

  test('list: entries() iterates every page', async (t) => {
    const b = await open(t);
    const keys = Array.from({ length: 9 }, (_, i) => `e/${i}`);
    await Promise.all(keys.map((k) => b.put(k, k)));
    await b.put('outside', 'x');
    const got: string[] = [];
    for await (const item of b.entries({ prefix: 'e/', limit: 2 })) got.push(item.key);
    check(sameList(got, keys), `entries() yielded ${JSON.stringify(got)}`);
  });

  test('list: a limit out of range is rejected with INVALID_ARGUMENT', async (t) => {
    const b = await open(t);
    await expectCode('INVALID_ARGUMENT', () => b.list({ limit: 0 }), 'list with limit 0');
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.list({ limit: b.capabilities.maxListLimit + 1 }),
      'list over maxListLimit',
    );
    await expectCode('INVALID_ARGUMENT', () => b.list({ limit: 1.5 }), 'list with a fractional limit');
  });

  // ---------------------------------------------------------------- copy

  test('copy: the copy is independent of the source and keeps headers and metadata', async (t) => {
    const b = await open(t);
    const caps = b.capabilities;
    const original = randomData(10 * KiB);
    await b.put('src', original, {
      contentType: 'image/png',
      ...(caps.metadata ? { metadata: { Origin: 'Zürich 🏔' } } : {}),
      ...(caps.cacheControl ? { cacheControl: 'max-age=60' } : {}),
    });
    const info = await b.copy('src', 'dst');
    check(info.key === 'dst', `copy returned key ${info.key}`);
    await b.put('src', 'overwritten', {
      contentType: 'text/plain',
      ...(caps.metadata ? { metadata: { origin: 'changed' } } : {}),
    });
    checkBytes(await b.getBytes('dst'), original, 'the copy after the source was overwritten');
    const head = await b.head('dst');
    check(head.contentType === 'image/png', `copy contentType ${head.contentType}`);
    if (caps.metadata) checkMetadata(head.metadata, { origin: 'Zürich 🏔' }, 'copy');
    if (caps.cacheControl)
      check(head.cacheControl === 'max-age=60', `copy cacheControl ${head.cacheControl}`);
    check((await b.getText('src')) === 'overwritten', 'the source was not overwritten');
  });

  test('copy: overwrites an existing destination', async (t) => {
    const b = await open(t);
    await b.put('src', 'new content');
    await b.put('dst', 'old content');
    await b.copy('src', 'dst');
    check((await b.getText('dst')) === 'new content', 'copy did not overwrite the destination');
  });

  test('copy: a missing source fails with NOT_FOUND', async (t) => {
    const b = await open(t);
    await expectCode('NOT_FOUND', () => b.copy('missing', 'dst'), 'copy of a missing source');
    check(!(await b.exists('dst')), 'a failed copy created the destination');
  });

  test('copy: unusual source and destination keys', async (t) => {
    const b = await open(t);
    const src = 'a b/ü#?%+=&/😀';
    const dst = '../x//y/\\ z';
    await b.put(src, 'payload');
    await b.copy(src, dst);
    check((await b.getText(dst)) === 'payload', 'copy between unusual keys lost the content');
    check(sameList(await listAll(b, {}), sortUtf8([src, dst])), 'listing after copy differs');
  });

  test('copyIfNoneMatch: copy onto an existing key fails and leaves it unchanged', async (t) => {
    const b = await open(t);
    await b.put('src', 'source');
    if (!b.capabilities.copyIfNoneMatch) {
      await expectUnsupported(t, 'copyIfNoneMatch', (signal) =>
        b.copy('src', 'dst', { ifNoneMatch: '*', signal }),
      );
      return;
    }
    await b.copy('src', 'fresh', { ifNoneMatch: '*' });
    check((await b.getText('fresh')) === 'source', 'create-only copy to a fresh key failed');
    await b.put('dst', 'existing');
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.copy('src', 'dst', { ifNoneMatch: '*' }),
      'create-only copy onto an existing key',
    );
    check((await b.getText('dst')) === 'existing', 'a failed create-only copy changed the destination');
  });

  test('copy ifMatch: a stale source etag fails', async (t) => {
    const b = await open(t);
    if (!b.capabilities.getIfMatch) {
      await expectUnsupported(t, 'getIfMatch', (signal) =>
        b.copy('src', 'dst', { ifMatch: '"etag"', signal }),
      );
      return;
    }
    const stale = await b.put('src', 'one');
    const cur = await b.put('src', 'two');
    await expectCode(
      'PRECONDITION_FAILED',
      () => b.copy('src', 'dst', { ifMatch: stale.etag }),
      'copy with a stale source etag',
    );
    check(!(await b.exists('dst')), 'a failed conditional copy created the destination');
    await b.copy('src', 'dst', { ifMatch: cur.etag });
    check((await b.getText('dst')) === 'two', 'copy with the current etag failed');
  });

  test('copyBetween: streams an object between two buckets with its headers', async (t) => {
    const a = await open(t);
    const z = await open(t);
    const data = randomData(300 * KiB + 1);
    const md = a.capabilities.metadata && z.capabilities.metadata;
    await a.put('x', data, { contentType: 'application/x-test', ...(md ? { metadata: { k: 'v 😀' } } : {}) });
    await copyBetween(a, 'x', z, 'y');
    checkBytes(await z.getBytes('y'), data, 'copyBetween content');
    const head = await z.head('y');
    check(head.contentType === 'application/x-test', `copyBetween contentType ${head.contentType}`);
    if (md) checkMetadata(head.metadata, { k: 'v 😀' }, 'copyBetween');
    check(!(await a.exists('y')) && !(await z.exists('x')), 'copyBetween wrote to the wrong bucket');
  });

  // ---------------------------------------------------------------- delete

  test('delete: removes the object', async (t) => {
    const b = await open(t);
    await b.put('k', 'x');
    await b.put('k2', 'y');
    await b.delete('k');
    await expectCode('NOT_FOUND', () => b.get('k'), 'get after delete');
    await expectCode('NOT_FOUND', () => b.head('k'), 'head after delete');
    check(sameList(await listAll(b, {}), ['k2']), 'delete removed the wrong objects');
  });

  test('delete: deleting a missing key succeeds', async (t) => {
    const b = await open(t);
    await b.delete('never-existed');
    await b.put('k', 'x');
    await b.delete('k');
    await b.delete('k');
  });

  test('deleteMany: per-key results in input order, missing keys included', async (t) => {
    const b = await open(t);
    const present = ['a', 'b/c', 'ü', 'd d'];
    await Promise.all([...present, 'keep'].map((k) => b.put(k, k)));
    const keys = ['a', 'missing-1', 'b/c', 'ü', 'missing-2', 'd d'];
    const results = await b.deleteMany(keys);
    check(
      results.length === keys.length,
      `deleteMany returned ${results.length} results for ${keys.length} keys`,
    );
    results.forEach((r, i) => {
      check(r.key === keys[i], `result ${i} is for ${r.key}, expected ${keys[i]}`);
      check(r.ok, `deleting ${keys[i]} failed: ${r.ok ? '' : describeError(r.error)}`);
    });
    check(sameList(await listAll(b, {}), ['keep']), 'deleteMany removed the wrong objects');
  });

  test('deleteMany: more keys than one batch', async (t) => {
    const b = await open(t);
    const n = Math.min(b.capabilities.maxDeleteBatch + 2, 120);
    const keys = Array.from({ length: n }, (_, i) => `m/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 20)
      await Promise.all(keys.slice(i, i + 20).map((k) => b.put(k, 'x')));
    const results = await b.deleteMany(keys);
    check(
      results.length === n && results.every((r, i) => r.ok && r.key === keys[i]),
      'deleteMany results are not all ok in order',
    );
    check((await listAll(b, {})).length === 0, 'objects remain after deleteMany');
  });

  test('deleteMany: an invalid key rejects the whole call before anything is deleted', async (t) => {
    const b = await open(t);
    await b.put('a', 'x');
    await expectCode('INVALID_ARGUMENT', () => b.deleteMany(['a', '']), 'deleteMany with an empty key');
    check(await b.exists('a'), 'deleteMany with an invalid key deleted a valid one');
    check((await b.deleteMany([])).length === 0, 'deleteMany([]) returned results');
  });

  // ---------------------------------------------------------------- aborted and failed uploads

  test(
    'abort: an upload aborted mid-stream (multipart) leaves nothing visible',
    async (t) => {
      const b = await open(t);
      const partSize = partSizeOf(b);
      const ac = new AbortController();
      const gen = new GeneratedBody(8 * partSize);
      const stream = gen.stream(async (produced) => {
        if (produced >= partSize + partSize / 2 && !ac.signal.aborted)
          ac.abort(new Error('conformance: abort mid-upload'));
        if (ac.signal.aborted) await sleep(10);
      });
      await expectCode(
        'CANCELLED',
        () => b.put('k', stream, { partSize, signal: ac.signal }),
        'an aborted multipart put',
      );
      check(gen.bytesProduced < gen.size, 'the upload read the whole body although it was aborted');
      await expectCode('NOT_FOUND', () => b.head('k'), 'head after an aborted upload');
      check((await listAll(b, {})).length === 0, 'an aborted upload is listed');
    },
    { timeout: 120_000 },
  );

  test(
    'abort: an aborted overwrite keeps the previous object',
    async (t) => {
      const b = await open(t);
      await b.put('k', 'previous');
      const partSize = partSizeOf(b);
      const ac = new AbortController();
      const gen = new GeneratedBody(8 * partSize);
      const stream = gen.stream(async (produced) => {
        if (produced >= partSize + partSize / 2 && !ac.signal.aborted)
          ac.abort(new Error('conformance: abort mid-upload'));
        if (ac.signal.aborted) await sleep(10);
      });
      await expectCode(
        'CANCELLED',
        () => b.put('k', stream, { partSize, signal: ac.signal }),
        'an aborted multipart overwrite',
      );
      check((await b.getText('k')) === 'previous', 'an aborted overwrite changed the object');
    },
    { timeout: 120_000 },
  );

  test(
    'abort: a source stream that fails mid-upload leaves nothing visible',
    async (t) => {
      const b = await open(t);
      const partSize = partSizeOf(b);
      const gen = new GeneratedBody(8 * partSize);
      const stream = gen.stream((produced) => {
        if (produced >= partSize + partSize / 2) throw new Error('conformance: source failed');
      });
      await expectPolycloudError(() => b.put('k', stream, { partSize }), 'put of a failing stream');
      await expectCode('NOT_FOUND', () => b.head('k'), 'head after a failed upload');
      check((await listAll(b, {})).length === 0, 'a failed upload is listed');
    },
    { timeout: 120_000 },
  );

  test('abort: a small streamed upload aborted while the stream is read fails with CANCELLED', async (t) => {
    const b = await open(t);
    const ac = new AbortController();
    const gen = new GeneratedBody(200 * KiB, 8 * KiB);
    const stream = gen.stream(async (produced) => {
      if (produced >= 64 * KiB && !ac.signal.aborted) ac.abort(new Error('conformance: abort while reading'));
      if (ac.signal.aborted) await sleep(5);
    });
    await expectCode(
      'CANCELLED',
      () => b.put('k', stream, { signal: ac.signal }),
      'a small streamed put aborted mid-read',
    );
    await expectCode('NOT_FOUND', () => b.head('k'), 'head after an aborted small upload');
  });

  test('abort: a signal aborted before the call fails with CANCELLED', async (t) => {
    const b = await open(t);
    await b.put('existing', 'x');
    const aborted = AbortSignal.abort();
    await expectCode('CANCELLED', () => b.put('k', 'x', { signal: aborted }), 'put with an aborted signal');
    await expectCode('CANCELLED', () => b.get('existing', { signal: aborted }), 'get with an aborted signal');
    await expectCode('CANCELLED', () => b.list({ signal: aborted }), 'list with an aborted signal');
    await expectCode(
      'CANCELLED',
      () => b.put('k', new GeneratedBody(1000).stream(), { signal: aborted }),
      'put of a stream with an aborted signal',
    );
    check(!(await b.exists('k')), 'put with an aborted signal wrote the object');
  });

  // ---------------------------------------------------------------- checksums

  for (const algo of ['md5', 'crc32c'] as const) {
    const capability = algo === 'md5' ? 'putMd5' : 'putCrc32c';
    const digest = (d: Uint8Array) => (algo === 'md5' ? md5Base64(d) : new Crc32c().update(d).digestBase64());
    const sum = (value: string): PutOptions => (algo === 'md5' ? { md5: value } : { crc32c: value });
    const wrong = (d: Uint8Array) => digest(utf8(`not the body ${d.byteLength}`));
    const declared = (b: Bucket) => (algo === 'md5' ? b.capabilities.putMd5 : b.capabilities.putCrc32c);

    for (const path of ['single-shot', 'multipart'] as const) {
      const makeBody = (d: Uint8Array): BodyInput =>
        path === 'multipart' ? chunkedStream(d, 256 * KiB + 1) : d;
      const size = (b: Bucket) => (path === 'multipart' ? partSizeOf(b) + 3 * KiB : 64 * KiB + 1);
      const partOpts = (b: Bucket) => (path === 'multipart' ? { partSize: partSizeOf(b) } : {});

      test(
        `checksums: a matching ${algo} is accepted (${path})`,
        async (t) => {
          const b = await open(t);
          if (!declared(b)) {
            await expectUnsupported(t, capability, (signal) =>
              b.put('k', 'x', { ...sum(digest(utf8('x'))), signal }),
            );
            check(!(await b.exists('k')), 'a rejected put wrote the object');
            return;
          }
          const d = randomData(size(b));
          await b.put('k', makeBody(d), { ...sum(digest(d)), ...partOpts(b) });
          checkBytes(await b.getBytes('k'), d, `content after a ${path} put with ${algo}`);
          if (algo === 'md5') {
            const reported = (await b.head('k')).md5;
            check(
              reported === undefined || reported === digest(d),
              `head reports md5 ${reported}, expected ${digest(d)}`,
            );
          }
        },
        { timeout: 120_000 },
      );

      test(
        `checksums: a wrong ${algo} is rejected and nothing is written (${path})`,
        async (t) => {
          const b = await open(t);
          if (!declared(b)) {
            await expectUnsupported(t, capability, (signal) =>
              b.put('k', 'x', { ...sum(wrong(utf8('x'))), signal }),
            );
            return;
          }
          const d = randomData(size(b));
          await expectCode(
            'INVALID_ARGUMENT',
            () => b.put('new', makeBody(d), { ...sum(wrong(d)), ...partOpts(b) }),
            `${path} put with a wrong ${algo}`,
          );
          await expectCode('NOT_FOUND', () => b.head('new'), `head after a ${path} put with a wrong ${algo}`);
          await b.put('old', 'previous');
          const d2 = randomData(size(b));
          await expectCode(
            'INVALID_ARGUMENT',
            () => b.put('old', makeBody(d2), { ...sum(wrong(d2)), ...partOpts(b) }),
            `${path} overwrite with a wrong ${algo}`,
          );
          check(
            (await b.getText('old')) === 'previous',
            `a ${path} overwrite with a wrong ${algo} changed the object`,
          );
        },
        { timeout: 120_000 },
      );
    }
  }

  // ---------------------------------------------------------------- signed URLs

  const signedUrlTest = (
    method: SignedUrlMethod,
    label: string,
    body: (b: Bucket, t: TestCtx) => Promise<void>,
  ) =>
    test(`signedUrl: ${label}`, async (t) => {
      const b = await open(t);
      if (!b.capabilities.signedUrlMethods.includes(method)) {
        await expectUnsupported(t, `signedUrlMethods:${method}`, () =>
          b.signedUrl('k', { method, expiresIn: 60 }),
        );
        await expectUnsupported(t, `signedUrlMethods:${method}`, () =>
          b.signedRequest('k', { method, expiresIn: 60 }),
        );
        return;
      }
      await body(b, t);
    });

  /** Sends a signed request as any client without credentials would: a plain fetch. */
  const send = (req: SignedRequest, body?: BodyInit) =>
    fetch(req.url, { method: req.method, headers: req.headers, ...(body === undefined ? {} : { body }) });

  signedUrlTest('GET', 'a GET URL returns the content to a plain fetch', async (b) => {
    const data = randomData(20 * KiB + 3);
    await b.put('doc.bin', data, { contentType: 'application/octet-stream' });
    const url = await b.signedUrl('doc.bin', { method: 'GET', expiresIn: 300 });
    const res = await fetch(url);
    await checkStatus(res, 'GET', url, (st) => st === 200);
    checkBytes(new Uint8Array(await res.arrayBuffer()), data, 'body fetched with the signed GET URL');
  });

  // A PUT may need headers besides the URL (Content-Type, Azure's x-ms-blob-type): uploaders are
  // handed signedRequest(), and send exactly what it returns.
  signedUrlTest('PUT', 'a PUT URL writes the object with a plain fetch', async (b) => {
    const data = randomData(10 * KiB + 1);
    const req = await b.signedRequest('upload.txt', {
      method: 'PUT',
      expiresIn: 300,
      contentType: 'text/plain',
    });
    check(req.method === 'PUT', `signedRequest for PUT returned method ${req.method}`);
    const ct = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    check(ct === 'text/plain', `signedRequest for PUT with contentType returned content-type ${ct}`);
    const res = await send(req, data);
    await checkStatus(res, 'PUT', req.url, (st) => st >= 200 && st < 300);
    checkBytes(await b.getBytes('upload.txt'), data, 'object written through the signed PUT request');
    const head = await b.head('upload.txt');
    check(head.contentType === 'text/plain', `contentType after a signed PUT is ${head.contentType}`);
    // Without contentType: the headers returned suffice, and the PUT URL may overwrite.
    const plain = await b.signedRequest('upload.txt', { method: 'PUT', expiresIn: 300 });
    const res2 = await send(plain, 'replaced');
    await checkStatus(res2, 'PUT', plain.url, (st) => st >= 200 && st < 300);
    check((await b.getText('upload.txt')) === 'replaced', 'a second signed PUT did not replace the object');
  });

  signedUrlTest('DELETE', 'a DELETE URL deletes the object with a plain fetch', async (b) => {
    await b.put('gone', 'x');
    const url = await b.signedUrl('gone', { method: 'DELETE', expiresIn: 300 });
    const res = await fetch(url, { method: 'DELETE' });
    await checkStatus(res, 'DELETE', url, (st) => st >= 200 && st < 300);
    check(!(await b.exists('gone')), 'the object still exists after a signed DELETE');
  });

  test('signedRequest: GET and DELETE requests work with a plain fetch, as signedUrl does', async (t) => {
    const b = await open(t);
    const methods = (['GET', 'DELETE'] as const).filter((m) => b.capabilities.signedUrlMethods.includes(m));
    for (const method of (['GET', 'DELETE'] as const).filter((m) => !methods.includes(m))) {
      await expectUnsupported(t, `signedUrlMethods:${method}`, () =>
        b.signedRequest('k', { method, expiresIn: 60 }),
      );
    }
    if (methods.includes('GET')) {
      await b.put('req.txt', 'by request', { contentType: 'text/plain' });
      const req = await b.signedRequest('req.txt', { method: 'GET', expiresIn: 300 });
      check(req.method === 'GET', `signedRequest for GET returned method ${req.method}`);
      check(
        typeof req.headers === 'object' && req.headers !== null,
        'signedRequest returned no headers object',
      );
      const res = await send(req);
      await checkStatus(res, 'GET', req.url, (st) => st === 200);
      check((await res.text()) === 'by request', 'a signed GET request returned other content');
      // The default method is GET, as for signedUrl.
      const dflt = await b.signedRequest('req.txt', { expiresIn: 300 });
      check(dflt.method === 'GET', `signedRequest without a method returned method ${dflt.method}`);
    }
    if (methods.includes('DELETE')) {
      await b.put('req-gone', 'x');
      const req = await b.signedRequest('req-gone', { method: 'DELETE', expiresIn: 300 });
      check(req.method === 'DELETE', `signedRequest for DELETE returned method ${req.method}`);
      const res = await send(req);
      await checkStatus(res, 'DELETE', req.url, (st) => st >= 200 && st < 300);
      check(!(await b.exists('req-gone')), 'the object still exists after a signed DELETE request');
    }
    const method = b.capabilities.signedUrlMethods[0];
    if (method !== undefined) {
      const max = b.capabilities.maxSignedUrlSeconds;
      await expectCode(
        'INVALID_ARGUMENT',
        () => b.signedRequest('k', { method, expiresIn: max + 1 }),
        'signedRequest with expiresIn over the maximum',
      );
      await expectCode(
        'INVALID_ARGUMENT',
        () => b.signedRequest('k', { method, expiresIn: 0 }),
        'signedRequest with expiresIn 0',
      );
    }
  });

  signedUrlTest('GET', 'a GET URL works for keys with special characters', async (b) => {
    const key = 'dir/ünï cødé #?%+&=/😀.txt';
    await b.put(key, 'special');
    const url = await b.signedUrl(key, { method: 'GET', expiresIn: 300 });
    const res = await fetch(url);
    await checkStatus(res, 'GET', url, (st) => st === 200);
    check((await res.text()) === 'special', 'a signed GET of a special key returned other content');
  });

  signedUrlTest('GET', 'a GET URL does not allow writing', async (b) => {
    await b.put('ro', 'original');
    const url = await b.signedUrl('ro', { method: 'GET', expiresIn: 300 });
    const res = await fetch(url, { method: 'PUT', body: 'tampered' });
    check(res.status >= 400, `PUT through a GET-signed URL answered ${res.status}`);
    check((await b.getText('ro')) === 'original', 'a GET-signed URL allowed a write');
  });

  signedUrlTest('GET', 'a GET URL stops working after expiresIn', async (b) => {
    await b.put('short', 'x');
    const url = await b.signedUrl('short', { method: 'GET', expiresIn: 1 });
    await sleep(2500);
    const res = await fetch(url);
    check(res.status >= 400, `an expired signed URL answered ${res.status}`);
  });

  test('signedUrl: expiresIn outside 1..maxSignedUrlSeconds is rejected with INVALID_ARGUMENT', async (t) => {
    const b = await open(t);
    const method = b.capabilities.signedUrlMethods[0];
    if (method === undefined) {
      await expectUnsupported(t, 'signedUrlMethods', () =>
        b.signedUrl('k', { method: 'GET', expiresIn: 60 }),
      );
      return;
    }
    const max = b.capabilities.maxSignedUrlSeconds;
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.signedUrl('k', { method, expiresIn: max + 1 }),
      'expiresIn over the maximum',
    );
    await expectCode('INVALID_ARGUMENT', () => b.signedUrl('k', { method, expiresIn: 0 }), 'expiresIn 0');
  });

  // ---------------------------------------------------------------- reads, existence, misc

  test('get: a missing key fails with NOT_FOUND', async (t) => {
    const b = await open(t);
    await expectCode('NOT_FOUND', () => b.get('missing'), 'get of a missing key');
    await expectCode('NOT_FOUND', () => b.getBytes('missing/nested'), 'getBytes of a missing key');
  });

  test('head: a missing key fails with NOT_FOUND', async (t) => {
    const b = await open(t);
    await expectCode('NOT_FOUND', () => b.head('missing'), 'head of a missing key');
  });

  test('exists: true for a stored key, false for a missing one', async (t) => {
    const b = await open(t);
    await b.put('here', '');
    check(await b.exists('here'), 'exists is false for an empty stored object');
    check(!(await b.exists('not-here')), 'exists is true for a missing key');
    check(!(await b.exists('her')), 'exists is true for a prefix of a stored key');
  });

  test('put: an overwrite replaces content, size and content type', async (t) => {
    const b = await open(t);
    await b.put('k', randomData(5000), { contentType: 'application/octet-stream' });
    await b.put('k', 'short', { contentType: 'text/plain' });
    const head = await b.head('k');
    check(
      head.size === 5 && head.contentType === 'text/plain',
      `after overwrite: size ${head.size}, type ${head.contentType}`,
    );
    check((await b.getText('k')) === 'short', 'overwrite did not replace the content');
  });

  test('put: the returned info matches head', async (t) => {
    const b = await open(t);
    const info = await b.put('k', 'hello', { contentType: 'text/plain' });
    const head = await b.head('k');
    check(info.key === 'k' && info.size === 5, `put returned key ${info.key} size ${info.size}`);
    check(info.etag === head.etag, `put etag ${info.etag}, head etag ${head.etag}`);
    check(head.contentType === 'text/plain', `head contentType ${head.contentType}`);
  });

  test('get: the body streams in chunks and the helpers decode it', async (t) => {
    const b = await open(t);
    const data = randomData(700 * KiB + 5);
    await b.put('k', data);
    const r = await b.get('k');
    const reader = r.body.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      check(value instanceof Uint8Array, 'the body stream yielded a non-Uint8Array chunk');
      chunks.push(value);
    }
    checkBytes(Buffer.concat(chunks), data, 'streamed body');
    await b.put('t', 'héllo 😀');
    check((await b.getText('t')) === 'héllo 😀', 'getText did not decode UTF-8');
    await b.put('j', JSON.stringify({ a: [1, 'ü'] }));
    const j = await (await b.get('j')).json<{ a: [number, string] }>();
    check(j.a[0] === 1 && j.a[1] === 'ü', 'json() did not decode the body');
  });

  test('lastModified: a Date close to now', async (t) => {
    const b = await open(t);
    const before = Date.now();
    await b.put('k', 'x');
    const lm = (await b.head('k')).lastModified;
    check(lm instanceof Date && !Number.isNaN(lm.getTime()), 'lastModified is not a valid Date');
    check(
      Math.abs(lm.getTime() - before) < 5 * 60_000,
      `lastModified ${lm.toISOString()} is not within 5 minutes of now`,
    );
  });

  test('concurrency: concurrent writes and reads of different keys', async (t) => {
    const b = await open(t);
    const items = Array.from({ length: 24 }, (_, i) => ({ key: `c/${i}`, data: randomData(1000 + i * 97) }));
    await Promise.all(items.map((i) => b.put(i.key, i.data)));
    const got = await Promise.all(items.map((i) => b.getBytes(i.key)));
    for (const [i, g] of got.entries()) checkBytes(g, items[i]!.data, `concurrent read of ${items[i]!.key}`);
    check(
      (await listAll(b, { prefix: 'c/' })).length === items.length,
      'not every concurrent write is listed',
    );
  });

  test('options: an unknown option is rejected with INVALID_ARGUMENT', async (t) => {
    const b = await open(t);
    await b.put('k', 'x');
    const bogus = { contentTyp: 'text/plain' } as unknown as PutOptions;
    await expectCode('INVALID_ARGUMENT', () => b.put('new', 'x', bogus), 'put with an unknown option');
    check(!(await b.exists('new')), 'put with an unknown option wrote the object');
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.get('k', { rang: 1 } as unknown as GetOptions),
      'get with an unknown option',
    );
    await expectCode('INVALID_ARGUMENT', () => b.head('k', { x: 1 } as never), 'head with an unknown option');
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.delete('k', { force: true } as never),
      'delete with an unknown option',
    );
    check(await b.exists('k'), 'delete with an unknown option deleted the object');
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.list({ recursive: true } as never),
      'list with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => b.copy('k', 'k2', { overwrite: true } as never),
      'copy with an unknown option',
    );
  });

  test('close: operations after close() fail', async (t) => {
    const b = await open(t);
    await b.put('k', 'x');
    await b.close();
    await expectPolycloudError(() => b.put('k2', 'x'), 'put after close');
    await expectPolycloudError(() => b.get('k'), 'get after close');
    await expectPolycloudError(() => b.head('k'), 'head after close');
    await expectPolycloudError(() => b.list(), 'list after close');
    await expectPolycloudError(() => b.delete('k'), 'delete after close');
    await b.close();
  });

  test('capabilities: a frozen record with usable limits', async (t) => {
    const b = await open(t);
    const c = b.capabilities;
    check(Object.isFrozen(c), 'capabilities is not frozen');
    check(
      c.maxKeyBytes === 1024,
      `maxKeyBytes is ${c.maxKeyBytes}; the contract is 1..1024 bytes on every provider`,
    );
    check(c.maxListLimit >= 1 && c.maxDeleteBatch >= 1, 'maxListLimit and maxDeleteBatch must be at least 1');
    check(c.maxObjectBytes >= 20 * MiB, `maxObjectBytes ${c.maxObjectBytes} is below 20 MiB`);
    check(Array.isArray(c.signedUrlMethods), 'signedUrlMethods is not an array');
    if (c.signedUrlMethods.length > 0)
      check(c.maxSignedUrlSeconds >= 60, 'maxSignedUrlSeconds is under a minute');
  });

  // ---------------------------------------------------------------- encryption at rest
  registerEncryptionTests(test, open, partSizeOf);
}

/** Every key under `opts.prefix`, through all pages. */
async function listAll(b: Bucket, opts: { prefix?: string; limit?: number }): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page: ListPage = await b.list({ ...opts, ...(cursor ? { cursor } : {}) });
    out.push(...page.items.map((i) => i.key));
    cursor = page.cursor;
    if (++pages > 10_000) throw new Error('listing did not end');
  } while (cursor !== undefined);
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkMetadata(
  actual: Readonly<Record<string, string>>,
  expected: Record<string, string>,
  where: string,
): void {
  const a = JSON.stringify(Object.entries(actual).sort(([x], [y]) => (x < y ? -1 : 1)));
  const e = JSON.stringify(Object.entries(expected).sort(([x], [y]) => (x < y ? -1 : 1)));
  check(a === e, `${where} metadata is ${a}, expected ${e}`);
}

function checkOneWinner(
  r: { fulfilled: { index: number; value: BlobInfo }[]; rejected: { index: number; reason: unknown }[] },
  what: string,
): void {
  check(
    r.fulfilled.length === 1,
    `${what}: ${r.fulfilled.length} writers succeeded, expected exactly 1 (errors: ${r.rejected.map((x) => describeError(x.reason)).join('; ')})`,
  );
  for (const x of r.rejected) {
    check(
      (x.reason as { code?: unknown })?.code === 'PRECONDITION_FAILED',
      `${what}: the losing writer failed with ${describeError(x.reason)}, expected PRECONDITION_FAILED`,
    );
  }
}

function chunkedStream(data: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= data.byteLength) {
        c.close();
        return;
      }
      c.enqueue(data.slice(off, off + chunk));
      off += chunk;
    },
  });
}

async function* chunkedIterable(data: Uint8Array, chunk: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.byteLength; off += chunk) yield data.slice(off, off + chunk);
}

/** A URL without its query (signatures stay out of test output). */
function redact(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : `${url.slice(0, i)}?…`;
}

/** Fails with the response's status and the start of its body unless `ok(status)`; reads the body only then. */
async function checkStatus(
  res: Response,
  method: string,
  url: string,
  ok: (status: number) => boolean,
): Promise<void> {
  if (ok(res.status)) return;
  throw new Error(`${method} ${redact(url)} answered ${res.status}: ${await safeText(res)}`);
}

async function safeText(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, 300);
  } catch {
    return '';
  }
}
