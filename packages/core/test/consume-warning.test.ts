import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A worker whose every receive fails (a queue that does not exist, a refused credential) must
// not poll forever in silence: without an onError, the first non-retryable failure is a process
// warning, once per error code; with an onError, the caller decides and nothing is printed.
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
// The children run the sources under test, as the process conformance suites do (no build step).
const SOURCE = ['--import', 'tsx', '--import', `${REPO}/conformance/src/process/register.mjs`];

const script = (withOnError: boolean) => `
import { openQueue, pcError, registerScheme } from '@polycloud/core';
import { MemoryQueueDriver, MemoryQueueStore } from '@polycloud/memory';
class Gone extends MemoryQueueDriver {
  async receive() { throw pcError('NOT_FOUND', 'receive on queue "q": the queue is gone', { retryable: false }); }
}
registerScheme('gone', { openQueueDriver: async (u) => new Gone(new MemoryQueueStore(u.hostname)), examples: { queue: 'gone://q' } });
const q = await openQueue('gone://q');
let seen = 0;
const c = q.consume(async () => {}, ${withOnError ? '{ onError: () => { seen++; } }' : '{}'});
setTimeout(async () => { await c.stop(); await q.close(); console.log(JSON.stringify({ seen })); }, 1500);
`;

function run(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SOURCE, '--input-type=module', '-e', code], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (c) => resolve({ code: c, stdout, stderr }));
  });
}

describe('consume() when every receive fails', () => {
  it('warns once, naming the queue and the error, keeps retrying and stops cleanly', async () => {
    const r = await run(script(false));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/POLYCLOUD_CONSUME_RECEIVE/g)?.length).toBe(1);
    expect(r.stderr).toContain('consume on queue "q"');
    expect(r.stderr).toContain('the queue is gone');
    expect(r.stderr).toContain('onError');
  }, 30_000);

  it('with an onError, leaves the reporting to it', async () => {
    const r = await run(script(true));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(r.stdout) as { seen: number }).seen).toBeGreaterThan(0);
  }, 30_000);
});
