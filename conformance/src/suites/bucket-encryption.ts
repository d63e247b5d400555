import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import type { BlobInfo, Bucket, EncryptionInfo } from '@polycloud/core';
import { isPolycloudError } from '@polycloud/core';
import type { RegisterTest, TestCtx } from './framework.js';
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
  randomData,
} from './helpers.js';

/**
 * The managed key id the suite writes with. Emulators accept any id (or ignore it); against a
 * real cloud set POLYCLOUD_CONFORMANCE_KMS_KEY to a key the credentials may use (an S3 KMS key
 * id, a Cloud KMS key name, an Azure encryption scope).
 */
export const CONFORMANCE_KMS_KEY_ID =
  process.env.POLYCLOUD_CONFORMANCE_KMS_KEY ?? 'polycloud-conformance-key';

/** A fresh AES-256 key. */
function newKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Every form a key could take in text: none may show up in an error. */
function keyForms(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [b.toString('base64'), b.toString('hex'), b.toString('base64url'), `${Array.from(key).join(',')}`];
}

function errorText(e: unknown): string {
  let text = `${String(e)}\n${(e as Error)?.stack ?? ''}`;
  try {
    text += `\n${JSON.stringify(e)}`;
  } catch {
    // a throwing toJSON is not a leak
  }
  return `${text}\n${inspect(e, { depth: 8 })}`;
}

function reported(info: BlobInfo): EncryptionInfo | undefined {
  return info.encryption;
}

/**
 * Encryption at rest: managed keys (`encryptionManagedKey`) and customer keys
 * (`encryptionCustomerKey`), on every upload path and read, both ways (declared: it works;
 * not declared: UNSUPPORTED before any I/O).
 */
export function registerEncryptionTests(
  test: RegisterTest,
  open: (t: TestCtx) => Promise<Bucket>,
  partSizeOf: (b: Bucket) => number,
): void {
  test('encryption: malformed options are rejected with INVALID_ARGUMENT before any I/O', async (t) => {
    const b = await open(t);
    const ac = new AbortController();
    ac.abort(new Error('conformance: aborted up front so that any I/O would fail with CANCELLED'));
    const signal = ac.signal;
    const short = newKey().slice(0, 31);
    const cases: [string, () => unknown][] = [
      ['a 31-byte customer key', () => b.put('k', 'x', { encryption: { customerKey: short }, signal })],
      [
        'a customer key given as a string',
        () =>
          b.put('k', 'x', { encryption: { customerKey: 'k'.repeat(32) as unknown as Uint8Array }, signal }),
      ],
      ['an empty kmsKeyId', () => b.put('k', 'x', { encryption: { kmsKeyId: '' }, signal })],
      [
        'both kmsKeyId and customerKey',
        () =>
          b.put('k', 'x', {
            encryption: { kmsKeyId: 'k', customerKey: newKey() } as unknown as { kmsKeyId: string },
            signal,
          }),
      ],
      [
        'an empty encryption object',
        () => b.put('k', 'x', { encryption: {} as { kmsKeyId: string }, signal }),
      ],
      [
        'a kmsKeyId on a read',
        () => b.get('k', { encryption: { kmsKeyId: 'k' } as unknown as { customerKey: Uint8Array }, signal }),
      ],
      ['a 31-byte key on head', () => b.head('k', { encryption: { customerKey: short }, signal })],
      [
        'a 31-byte source key on copy',
        () => b.copy('a', 'b', { sourceEncryption: { customerKey: short }, signal }),
      ],
    ];
    for (const [what, fn] of cases) {
      const e = await expectCode('INVALID_ARGUMENT', fn, what);
      for (const form of keyForms(short))
        check(!errorText(e).includes(form), `${what}: the error shows the key (${e.message})`);
    }
  });

  test(
    'encryptionManagedKey: single-shot, multipart and copy writes read back with a managed key',
    async (t) => {
      const b = await open(t);
      const encryption = { kmsKeyId: CONFORMANCE_KMS_KEY_ID };
      if (!b.capabilities.encryptionManagedKey) {
        await expectUnsupported(t, 'encryptionManagedKey', (signal) =>
          b.copy('a', 'b', { encryption, signal }),
        );
        await expectUnsupported(t, 'encryptionManagedKey', (signal) =>
          b.put('k', new GeneratedBody(KiB).stream(), { encryption, signal }),
        );
        return;
      }
      const small = randomData(3 * KiB + 7);
      await b.put('small', small, { encryption });
      checkBytes(await b.getBytes('small'), small, 'single-shot put with a managed key');
      const partSize = partSizeOf(b);
      const gen = new GeneratedBody(partSize + 64 * KiB);
      await b.put('big', gen.stream(), { encryption, partSize });
      check((await hashStream((await b.get('big')).body)).sha256 === gen.sha256, 'multipart content differs');
      const r = await b.get('big', { range: { offset: partSize - 10, length: 20 } });
      check((await r.bytes()).byteLength === 20, 'a range across the part boundary');
      await b.copy('small', 'copied', { encryption });
      checkBytes(await b.getBytes('copied'), small, 'copy with a managed key');
      check((await b.head('copied')).size === small.byteLength, 'head of the copy');
    },
    { timeout: 120_000 },
  );

  test('encryptionManagedKey: put, head and get report the managed key in effect', async (t) => {
    const b = await open(t);
    const encryption = { kmsKeyId: CONFORMANCE_KMS_KEY_ID };
    if (!b.capabilities.encryptionManagedKey) {
      await expectUnsupported(t, 'encryptionManagedKey', (signal) => b.put('k', 'x', { encryption, signal }));
      return;
    }
    const put = await b.put('k', 'managed', { encryption });
    for (const [what, info] of [
      ['put', put],
      ['head', await b.head('k')],
      ['get', (await b.get('k')).info],
    ] as const) {
      const e = reported(info);
      check(
        e !== undefined && 'kmsKeyId' in e && e.kmsKeyId.includes(CONFORMANCE_KMS_KEY_ID),
        `${what} reports encryption ${JSON.stringify(e)}, expected the key id ${CONFORMANCE_KMS_KEY_ID}`,
      );
    }
  });

  test(
    'encryptionCustomerKey: single-shot, multipart, copy and every read work with a customer key',
    async (t) => {
      const b = await open(t);
      const customerKey = newKey();
      const encryption = { customerKey };
      if (!b.capabilities.encryptionCustomerKey) {
        await expectCode(
          'UNSUPPORTED',
          () => b.get('k', { encryption, signal: AbortSignal.abort() }),
          'get with a customer key on a provider without encryptionCustomerKey',
        );
        await expectCode(
          'UNSUPPORTED',
          () => b.copy('a', 'b', { sourceEncryption: encryption, signal: AbortSignal.abort() }),
          'copy with a source key on a provider without encryptionCustomerKey',
        );
        await expectUnsupported(t, 'encryptionCustomerKey', (signal) =>
          b.put('k', new GeneratedBody(KiB).stream(), { encryption, signal }),
        );
        return;
      }
      const small = randomData(3 * KiB + 7);
      await b.put('small', small, { encryption });
      checkBytes(await b.getBytes('small', { encryption }), small, 'single-shot put, getBytes with the key');
      const part = await b.get('small', { encryption, range: { offset: 5, length: 100 } });
      checkBytes(await part.bytes(), small.subarray(5, 105), 'a range read with the key');
      check((await b.head('small', { encryption })).size === small.byteLength, 'head with the key');
      check(await b.exists('small', { encryption }), 'exists with the key');

      const partSize = partSizeOf(b);
      const gen = new GeneratedBody(partSize + 64 * KiB);
      await b.put('big', gen.stream(), { encryption, partSize });
      const big = await b.get('big', { encryption });
      check(
        (await hashStream(big.body)).sha256 === gen.sha256,
        'multipart put with the key: content differs',
      );
      const across = await b.get('big', { encryption, range: { offset: partSize - 10, length: 20 } });
      check((await across.bytes()).byteLength === 20, 'a range across the part boundary');

      // Same key on both sides, then a re-key to a new customer key.
      await b.copy('small', 'same', { sourceEncryption: encryption, encryption });
      checkBytes(await b.getBytes('same', { encryption }), small, 'copy under the same key');
      const other = { customerKey: newKey() };
      await b.copy('small', 'rekeyed', { sourceEncryption: encryption, encryption: other });
      checkBytes(await b.getBytes('rekeyed', { encryption: other }), small, 'copy to another customer key');
    },
    { timeout: 120_000 },
  );

  test("encryptionCustomerKey: put, head and get report the key's SHA-256, never the key", async (t) => {
    const b = await open(t);
    const customerKey = newKey();
    const encryption = { customerKey };
    if (!b.capabilities.encryptionCustomerKey) {
      await expectUnsupported(t, 'encryptionCustomerKey', (signal) =>
        b.put('k', 'x', { encryption, signal }),
      );
      return;
    }
    const sha = createHash('sha256').update(customerKey).digest('base64');
    const put = await b.put('k', 'customer', { encryption });
    for (const [what, info] of [
      ['put', put],
      ['head', await b.head('k', { encryption })],
      ['get', (await b.get('k', { encryption })).info],
    ] as const) {
      const e = reported(info);
      check(
        e !== undefined && 'customerKeySha256' in e && e.customerKeySha256 === sha,
        `${what} reports encryption ${JSON.stringify(e)}, expected customerKeySha256 ${sha}`,
      );
      for (const form of keyForms(customerKey))
        check(!inspect(info, { depth: 8 }).includes(form), `${what}: the info shows the key`);
    }
  });

  test('encryptionCustomerKey: reading without the key or with another key fails with PERMISSION_DENIED', async (t) => {
    const b = await open(t);
    const encryption = { customerKey: newKey() };
    if (!b.capabilities.encryptionCustomerKey) {
      await expectUnsupported(t, 'encryptionCustomerKey', (signal) => b.head('k', { encryption, signal }));
      return;
    }
    await b.put('k', 'secret content', { encryption });
    const wrong = { customerKey: newKey() };
    for (const [what, fn] of [
      ['getBytes without the key', () => b.getBytes('k')],
      ['head without the key', () => b.head('k')],
      ['getBytes with another key', () => b.getBytes('k', { encryption: wrong })],
      ['copy without the source key', () => b.copy('k', 'k2')],
    ] as const) {
      const e = await expectPolycloudError(fn, what);
      check(
        isPolycloudError(e, 'PERMISSION_DENIED') && /customerKey/.test(e.message),
        `${what}: expected PERMISSION_DENIED naming the customerKey option, got ${describeError(e)}`,
      );
      check(!e.retryable, `${what}: the error is retryable`);
    }
  });

  test('encryptionCustomerKey: errors never show the key (message, toJSON, inspect, cause)', async (t) => {
    const b = await open(t);
    const customerKey = newKey();
    const encryption = { customerKey };
    const errors: unknown[] = [];
    const grab = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        errors.push(e);
      }
    };
    if (!b.capabilities.encryptionCustomerKey) {
      await grab(() => b.put('k', 'x', { encryption }));
      await grab(() => b.getBytes('k', { encryption }));
    } else {
      await grab(() => b.getBytes('missing', { encryption }));
      await grab(() => b.head('missing', { encryption }));
      await grab(() => b.copy('missing', 'dst', { sourceEncryption: encryption, encryption }));
      await b.put('k', 'v', { encryption });
      await grab(() => b.put('k', 'v2', { encryption, ifMatch: '"stale"' }));
      await grab(() => b.put('k', 'v2', { encryption, ifNoneMatch: '*' }));
      await grab(() =>
        b.put('k', new GeneratedBody(partSizeOf(b) + KiB).stream(), {
          encryption,
          ifMatch: '"stale"',
          partSize: partSizeOf(b),
        }),
      );
    }
    check(errors.length > 0, 'no error was provoked');
    for (const e of errors) {
      check(isPolycloudError(e), `not a PolycloudError: ${describeError(e)}`);
      const text = errorText(e);
      for (const form of keyForms(customerKey))
        check(
          !text.includes(form),
          `the error "${(e as Error).message.slice(0, 120)}" shows the customer key`,
        );
    }
  });
}
