import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A memory queue answers in microtasks only. A handler that keeps failing with no retry delay
// must still leave the event loop free: the script's own timer stops the consumer and the
// process exits. Before, the redelivery loop never yielded and the process spun forever (so this
// runs in a child: in-process, it would starve the test runner's own timeout as well).
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SOURCE = ['--import', 'tsx', '--import', `${REPO}/conformance/src/process/register.mjs`];

const SCRIPT = `
import { openQueue } from '@polycloud/core';
const q = await openQueue('mem://starve');
await q.sendBatch([{ body: 1 }, { body: 2 }]);
const c = q.consume(async () => { throw new Error('always fails'); }, { retryDelaySeconds: () => 0, onError: () => {} });
setTimeout(async () => {
  await c.stop();
  await q.close();
  console.log(JSON.stringify({ redelivered: c.stats.failed > 2 }));
}, 300);
`;

function run(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SOURCE, '--input-type=module', '-e', SCRIPT], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('consume() on an in-process queue with a handler that always fails, no retry delay', () => {
  it('keeps redelivering yet lets timers run: stop() from a timer ends it and the process exits', async () => {
    const r = await run();
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(JSON.parse(r.stdout)).toEqual({ redelivered: true });
  }, 60_000);
});
