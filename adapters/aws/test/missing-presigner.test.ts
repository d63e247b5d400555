import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// An application that installed what the README lists for S3 (no presigner) and then signs a
// URL: the answer must name the missing package and the command, not a bare module error.
// Presigning is local, so no emulator is needed.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const SCRIPT = `
import { openBucket } from '@polycloud/core';
const b = await openBucket('s3://pc-no-presigner?region=us-east-1');
for (const call of [
  () => b.signedUrl('k', { method: 'GET', expiresIn: 60 }),
  () => b.signedRequest('k', { method: 'PUT', expiresIn: 60 }),
]) {
  try { await call(); console.log('signed'); }
  catch (e) { console.log(JSON.stringify({ code: e.code, operation: e.operation, message: e.message })); }
}
await b.close();
`;

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        here('../../../conformance/src/process/register.mjs'),
        '--import',
        here('./fixtures/register-without-presigner.mjs'),
        '--input-type=module',
        '-e',
        SCRIPT,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: `${repo}tsconfig.test.json`,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('S3 signed URLs without @aws-sdk/s3-request-presigner installed', () => {
  it('fail UNSUPPORTED naming the package and the npm command, per operation', async () => {
    const r = await run();
    expect(r.stderr).toBe('');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => [l.code, l.operation])).toEqual([
      ['UNSUPPORTED', 'signedUrl'],
      ['UNSUPPORTED', 'signedRequest'],
    ]);
    for (const l of lines) {
      expect(l.message).toContain('npm install @aws-sdk/s3-request-presigner');
      expect(l.message).toContain('"pc-no-presigner"');
    }
  }, 60_000);
});
