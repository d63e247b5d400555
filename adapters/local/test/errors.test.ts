import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';

// Bad input: each case gives a PolycloudError that says what and where, and leaves the file
// or folder exactly as it was.

const root = mkdtempSync(join(tmpdir(), 'polycloud-local-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function rejection(p: Promise<unknown>): Promise<Error & { code: string; retryable: boolean }> {
  try {
    await p;
  } catch (err) {
    expect(isPolycloudError(err)).toBe(true);
    return err as Error & { code: string; retryable: boolean };
  }
  throw new Error('expected the call to fail');
}

type DatabaseSync = { exec(sql: string): void; close(): void };
const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as unknown as {
  DatabaseSync: new (path: string) => DatabaseSync;
};

describe('file:// buckets', () => {
  // Node's recursive mkdir never settles there (the kernel answers ENOENT under /proc), which
  // held a script open after opening had already failed with TIMEOUT.
  it.runIf(existsSync('/proc/self'))(
    'a folder that cannot be created under /proc fails at once instead of hanging',
    async () => {
      for (const open of [
        () => openBucket(pathToFileURL('/proc/polycloud-nope/bucket').href),
        () => openKv(`${pathToFileURL('/proc/polycloud-nope/x.db').href.replace('file:', 'local:')}?table=t`),
      ]) {
        const err = await open().catch((e: unknown) => e);
        expect(isPolycloudError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
        expect((err as Error).message).toContain('cannot create the folder');
      }
    },
    60_000,
  );

  it('a path that is a file is refused and left alone', async () => {
    const f = join(root, 'a-file');
    writeFileSync(f, 'mine');
    const err = await rejection(openBucket(pathToFileURL(f).href));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(f);
    expect(err.message).toContain('not a folder');
    expect(readFileSync(f, 'utf8')).toBe('mine');
  });

  it('a folder holding files polycloud did not write is refused and left alone', async () => {
    const d = join(root, 'documents');
    mkdirSync(d);
    writeFileSync(join(d, 'letter.txt'), 'dear');
    const err = await rejection(openBucket(pathToFileURL(d).href));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(d);
    expect(err.message).toContain('letter.txt');
    expect(readFileSync(join(d, 'letter.txt'), 'utf8')).toBe('dear');
  });

  it.skipIf(process.getuid?.() === 0)('a read-only folder gives PERMISSION_DENIED naming it', async () => {
    const d = join(root, 'read-only');
    mkdirSync(d);
    chmodSync(d, 0o555);
    try {
      const err = await rejection(openBucket(pathToFileURL(d).href));
      expect(err.code).toBe('PERMISSION_DENIED');
      expect(err.message).toContain(d);
    } finally {
      chmodSync(d, 0o755);
    }
  });
});

describe('local:// databases', () => {
  it('a path that is a folder is refused', async () => {
    const d = join(root, 'a-folder');
    mkdirSync(d);
    const err = await rejection(openQueue(`local://${d}?queue=q`));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(d);
  });

  it('a file that is not an SQLite database is refused unchanged', async () => {
    const f = join(root, 'notes.db');
    writeFileSync(f, 'these are my notes, not a database\n'.repeat(200));
    const before = digest(f);
    const err = await rejection(openKv(`local://${f}?table=t`));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(f);
    expect(err.message).toContain('not an SQLite database');
    expect(digest(f)).toBe(before);
  });

  it('an SQLite database of another application is refused unchanged', async () => {
    const f = join(root, 'app.db');
    const other = new DatabaseSync(f);
    other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada')");
    other.close();
    const before = digest(f);
    const err = await rejection(openQueue(`local://${f}?queue=q`));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(f);
    expect(err.message).toContain('users');
    expect(digest(f)).toBe(before);
  });

  it('a database locked by another process for too long gives a retryable UNAVAILABLE; nothing is lost', async () => {
    const f = join(root, 'locked.db');
    const url = `local://${f}?table=t`;
    await using kv = await openKv(url, { driverOptions: { lockTimeoutMs: 300 }, retry: { maxAttempts: 1 } });
    await kv.set('kept', 1);
    // A second connection stands in for another process holding the write lock.
    const holder = new DatabaseSync(f);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const err = await rejection(kv.set('blocked', 2));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain(f);
      expect(err.message).toContain('locked');
      expect((await kv.get('kept'))?.value).toBe(1);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await kv.set('blocked', 2);
    expect((await kv.get('blocked'))?.value).toBe(2);
    expect((await kv.get('kept'))?.value).toBe(1);
  });

  it('a call that times out while the database is locked gives up and writes nothing', async () => {
    const f = join(root, 'locked-timeout.db');
    await using kv = await openKv(`local://${f}?table=t`, { retry: { maxAttempts: 1 } });
    await kv.set('kept', 1);
    const holder = new DatabaseSync(f);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const err = await rejection(kv.set('late', 2, { signal: AbortSignal.timeout(300) }));
      expect(err.code).toBe('TIMEOUT');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(await kv.get('late')).toBeUndefined();
    expect((await kv.get('kept'))?.value).toBe(1);
  });

  it('a URL without a queue or table name says what to add', async () => {
    const err = await rejection(openQueue(`local://${join(root, 'x.db')}`));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('?queue=');
  });
});
