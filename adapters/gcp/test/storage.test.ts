import type { Storage } from '@google-cloud/storage';
import { compareUtf8, isPolycloudError, openBucket } from '@polycloud/core';
import { gcsBucket, storageClient } from '@polycloud/gcp/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeName, encodeDelimiter, encodeKey, encodePrefix } from '../src/storage/names.js';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

const X = '\u{10FFFF}';
const SPECIAL_KEYS = [
  '.',
  '..',
  'line\nbreak',
  'carriage\rreturn',
  '\r\n',
  '\n',
  `max${X}char`,
  `${X}`,
  '.well-known/acme-challenge/token',
  '.well-known/other',
  'tab\tthen',
  '-dash',
];

describe('object names (names.ts)', () => {
  it('round-trips every key, and leaves ordinary keys unchanged', () => {
    for (const k of [...SPECIAL_KEYS, 'a/b', '', 'ünï/😀', '..a', '.a', 'a.', `a${X}\u0001`, `\t${X}${X}`]) {
      expect(decodeName(encodeKey(k))).toBe(k);
    }
    for (const k of ['a/b', 'ünï/😀', '../x', '//', '.x']) expect(encodeKey(k)).toBe(k);
  });

  it('never produces a name Cloud Storage refuses', () => {
    for (const k of SPECIAL_KEYS) {
      const n = encodeKey(k);
      expect(n).not.toMatch(/[\r\n]/);
      expect(n === '.' || n === '..').toBe(false);
      expect(n.startsWith('.well-known/acme-challenge/')).toBe(false);
    }
  });

  it('keeps UTF-8 byte order (except "." and ".." against their extensions)', () => {
    const keys = [
      '\t',
      '\tz',
      `\t${X}`,
      '\n',
      '\na',
      '\u000b',
      '\f',
      '\r',
      '\u000e',
      '-',
      '-z',
      '.well-known/acme-challenge/a',
      '.x',
      'a\nb',
      'a\tb',
      'a\u000bb',
    ];
    const byKey = [...keys].sort(compareUtf8);
    const byName = [...keys].sort((a, b) => compareUtf8(encodeKey(a), encodeKey(b)));
    expect(byName).toEqual(byKey);
  });

  it('an encoded prefix selects every encoded key with that prefix', () => {
    for (const k of SPECIAL_KEYS) {
      for (let i = 1; i <= [...k].length; i++) {
        const p = [...k].slice(0, i).join('');
        if (p === '.' || p === '..' || p === k) continue;
        expect(encodeKey(k).startsWith(encodePrefix(p))).toBe(true);
      }
    }
    expect(encodeDelimiter('/')).toBe('/');
  });
});

const { endpoint, notRun } = gcpTarget('fake-gcs-server');

describe.skipIf(!endpoint)(`Cloud Storage adapter on fake-gcs-server${notRun ? ` (${notRun})` : ''}`, () => {
  let admin: Storage;
  let name: string;
  const credentials = fakeServiceAccount();
  const emulator = () => endpoint!.env.STORAGE_EMULATOR_HOST!;
  const open = () => gcsBucket({ bucket: name, apiEndpoint: emulator(), projectId: PROJECT, credentials });

  beforeAll(async () => {
    admin = storageClient({ apiEndpoint: emulator(), projectId: PROJECT });
    name = `pc-${rand()}`;
    await admin.createBucket(name);
  });
  afterAll(async () => {
    await admin.bucket(name).deleteFiles({ force: true });
    await admin.bucket(name).delete();
  });

  it('keys Cloud Storage refuses round-trip through put, get, head, list and delete', async () => {
    const b = open();
    const prefix = `special-${rand()}/`;
    for (const k of SPECIAL_KEYS) await b.put(prefix + k, `v:${k}`);
    for (const k of SPECIAL_KEYS) {
      expect(await b.getText(prefix + k)).toBe(`v:${k}`);
      expect((await b.head(prefix + k)).key).toBe(prefix + k);
    }
    const listed: string[] = [];
    for await (const item of b.entries({ prefix, limit: 3 })) listed.push(item.key);
    // Byte order, except that "." and ".." sort after their extensions (documented).
    const dots = (k: string) => k === `${prefix}.` || k === `${prefix}..`;
    const expected = SPECIAL_KEYS.map((k) => prefix + k).sort(compareUtf8);
    expect(listed.filter((k) => !dots(k))).toEqual(expected.filter((k) => !dots(k)));
    expect(new Set(listed)).toEqual(new Set(expected));
    const dotted = await b.list({ prefix: `${prefix}.` });
    expect(new Set(dotted.items.map((i) => i.key))).toEqual(
      new Set(['.', '..', '.well-known/acme-challenge/token', '.well-known/other'].map((k) => prefix + k)),
    );
    // A prefix that is a prefix of an encoded name but not of the key is filtered out.
    const tabs = await b.list({ prefix: `${prefix}tab` });
    expect(tabs.items.map((i) => i.key)).toEqual([`${prefix}tab\tthen`]);
    const lines = await b.list({ prefix: `${prefix}line\n` });
    expect(lines.items.map((i) => i.key)).toEqual([`${prefix}line\nbreak`]);
    const dirs = await b.list({ prefix, delimiter: '/' });
    expect(dirs.prefixes).toContain(`${prefix}.well-known/`);
    const known = await b.list({ prefix: `${prefix}.well-known/`, delimiter: '/' });
    expect(known.prefixes).toEqual([`${prefix}.well-known/acme-challenge/`]);
    expect(known.items.map((i) => i.key)).toEqual([`${prefix}.well-known/other`]);
    for (const k of SPECIAL_KEYS) await b.delete(prefix + k);
    expect((await b.list({ prefix })).items).toEqual([]);
  });

  it('signed URLs work for GET, PUT and DELETE with a plain fetch', async () => {
    const b = open();
    const key = `signed/${rand()}/ünï cødé #?%+&=.txt`;
    const put = await b.signedUrl(key, { method: 'PUT', expiresIn: 300, contentType: 'text/plain' });
    expect(new URL(put).searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(
      (await fetch(put, { method: 'PUT', body: 'via signed PUT', headers: { 'content-type': 'text/plain' } }))
        .status,
    ).toBe(200);
    expect(await b.getText(key)).toBe('via signed PUT');
    const get = await b.signedUrl(key, { method: 'GET', expiresIn: 300 });
    const res = await fetch(get);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('via signed PUT');
    const del = await b.signedUrl(key, { method: 'DELETE', expiresIn: 300 });
    expect((await fetch(del, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await b.exists(key)).toBe(false);
  });

  it('signed URLs address the stored name of keys that need encoding', async () => {
    const b = open();
    const key = `signed/${rand()}/line\nbreak`;
    await b.put(key, 'encoded');
    const res = await fetch(await b.signedUrl(key, { method: 'GET', expiresIn: 60 }));
    expect(await res.text()).toBe('encoded');
  });

  it('signing without credentials that can sign fails with UNAUTHENTICATED', async () => {
    const b = gcsBucket({ bucket: name, apiEndpoint: emulator(), projectId: PROJECT });
    const err = await b.signedUrl('k', { method: 'GET', expiresIn: 60 }).catch((e: unknown) => e);
    expect(isPolycloudError(err)).toBe(true);
    expect(['UNAUTHENTICATED', 'PERMISSION_DENIED']).toContain((err as { code: string }).code);
  });

  it('opens from STORAGE_EMULATOR_HOST alone (the SDK would miss /storage/v1 there)', async () => {
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = emulator();
    try {
      const b = await openBucket(`gs://${name}`);
      const info = await b.put(`env/${rand()}`, 'from env');
      expect((await b.head(info.key)).size).toBe(8);
      expect(await b.getText(info.key)).toBe('from env');
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
  });

  it('etags are generations; quoted and unquoted forms are accepted', async () => {
    const b = open();
    const key = `etag/${rand()}`;
    const first = await b.put(key, 'one');
    expect(first.etag).toMatch(/^\d+$/);
    const second = await b.put(key, 'two', {
      ifMatch: `"${first.etag}"` === first.etag ? first.etag : `"${first.etag}"`,
    });
    expect(second.etag).not.toBe(first.etag);
    const err = await b.put(key, 'three', { ifMatch: 'not-a-generation' }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'PRECONDITION_FAILED')).toBe(true);
    expect(await b.getText(key, { ifMatch: second.etag })).toBe('two');
  });

  it('maps service errors: a missing bucket is NOT_FOUND with the native error as cause', async () => {
    const b = gcsBucket({ bucket: `missing-${rand()}`, apiEndpoint: emulator(), projectId: PROJECT });
    const err = await b.head('k').catch((e: unknown) => e);
    expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      provider: 'gcp',
      service: 'blob',
      operation: 'head',
      resource: { key: 'k' },
    });
  });

  it('a precondition failure on the resumable path is PRECONDITION_FAILED and leaves the object', async () => {
    const b = open();
    const key = `resumable/${rand()}`;
    await b.put(key, 'keep');
    const big = new Uint8Array(600 * 1024).fill(3);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(big);
        c.close();
      },
    });
    const err = await b.put(key, stream, { ifNoneMatch: '*', partSize: 256 * 1024 }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'PRECONDITION_FAILED')).toBe(true);
    expect(await b.getText(key)).toBe('keep');
  });

  it('native() is the Storage client', () => {
    const client = storageClient({ apiEndpoint: emulator(), projectId: PROJECT });
    expect(gcsBucket({ bucket: name, client }).native()).toBe(client);
  });

  it('rejects malformed gs:// URLs before any I/O', async () => {
    for (const url of [`gs://${name}/path`, `gs://${name}?region=x`, 'gs://']) {
      const err = await openBucket(url).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
