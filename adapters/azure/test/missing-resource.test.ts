import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { describe, expect, it } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();

// What a user sees first when the container, queue or table was never created: the service's
// explanation (not the queue SDK's "Unexpected status code: 404" or the Table SDK's raw OData
// JSON) and the command that creates it.
describe.skipIf(notRun !== undefined)('a missing container, queue or table', () => {
  const driverOptions = { connectionString };
  const name = `pc-none-${rand()}`;

  it.each([
    [
      'container',
      async () => (await openBucket(`azblob://${name}`, { driverOptions })).put('k', 'v'),
      'The specified container does not exist.',
      `polycloud create azblob://${name}`,
    ],
    [
      'queue',
      async () => (await openQueue(`azqueue://${name}`, { driverOptions })).send({ a: 1 }),
      'The specified queue does not exist.',
      `polycloud create azqueue://${name}`,
    ],
    [
      'table',
      async () => (await openKv(`aztable://${name.replace(/-/g, '')}`, { driverOptions })).set('k', 1),
      'The table specified does not exist.',
      `polycloud create aztable://${name.replace(/-/g, '')}`,
    ],
    [
      'container (HEAD, no body)',
      async () => (await openBucket(`azblob://${name}`, { driverOptions })).head('k'),
      'The specified container does not exist.',
      `polycloud create azblob://${name}`,
    ],
  ] as const)(
    '%s: NOT_FOUND with the service explanation and how to create it',
    async (_, call, text, hint) => {
      const err = await call().catch((e: unknown) => e);
      expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(text);
      expect(message).toContain(hint);
      expect(message).not.toContain('Unexpected status code');
      expect(message).not.toContain('odata');
    },
  );
});

describe.skipIf(notRun !== undefined)('examples/quickstart on a missing Azure queue', () => {
  it('prints one line naming the queue and the polycloud create command, exit 2 (no wait for jobs never sent)', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const queue = `pc-qs-${rand()}`;
    const r = await new Promise<{ code: unknown; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', `${repo}examples/quickstart/src/main.ts`],
        {
          cwd: repo,
          env: {
            ...process.env,
            TSX_TSCONFIG_PATH: `${repo}tsconfig.test.json`,
            AZURE_STORAGE_CONNECTION_STRING: connectionString,
            UPLOADS_URL: `mem://uploads`,
            JOBS_URL: `azqueue://${queue}`,
            COUNTERS_URL: 'mem://counters',
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }),
      ),
    );
    expect(r.stderr.trim().split('\n')).toEqual([
      `quickstart: the queue "${queue}" (azqueue://${queue}) does not exist (NOT_FOUND). ` +
        `Create it with: npx polycloud create 'azqueue://${queue}'`,
    ]);
    expect(r.code).toBe(2);
  }, 90_000);
});
