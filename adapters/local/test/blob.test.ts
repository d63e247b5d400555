import { mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPolycloudError } from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';
import { localBucket } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'polycloud-local-blob-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file below `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('file:// keys', () => {
  // Keys never become file names (content files are named by a random id), so names that
  // no file system could hold, or that would climb out of the folder, are just keys.
  const keys = [
    'A',
    'a',
    'CON',
    'nul.txt',
    'trailing dot.',
    'trailing space ',
    '../../outside',
    '/etc/passwd',
    'a//b',
    'NUL\u0000byte',
    'Straße',
    'STRASSE',
    'k'.repeat(1024),
    `${'é'.repeat(511)}k`,
  ];

  it('round-trip byte-exact and never write outside the bucket folder', async () => {
    const parent = join(root, 'keys');
    const dir = join(parent, 'bucket');
    await using b = await localBucket(dir);
    for (const [i, k] of keys.entries()) await b.put(k, `value ${i}`);
    for (const [i, k] of keys.entries()) expect(await b.getText(k)).toBe(`value ${i}`);
    const listed: string[] = [];
    for await (const item of b.entries()) listed.push(item.key);
    expect(listed).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(readdirSync(parent)).toEqual(['bucket']);
    // Only the index and content files named by id: no key appears as a path.
    for (const f of tree(dir))
      expect(f).toMatch(/^(index\.db(-wal|-shm)?|objects\/[0-9a-f]{2}\/[0-9a-f]{32})$/);
  });

  it('refuses to open a bucket whose objects folder was replaced by a symbolic link', async () => {
    const dir = join(root, 'linked');
    {
      await using b = await localBucket(dir);
      await b.put('x', 'y');
    }
    const elsewhere = join(root, 'elsewhere');
    renameSync(join(dir, 'objects'), elsewhere);
    symlinkSync(elsewhere, join(dir, 'objects'));
    try {
      await localBucket(dir);
      throw new Error('expected open to fail');
    } catch (err) {
      expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toContain('symbolic link');
    }
  });
});
