import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `npm start`'s command (tsx over the sources) and waits for "listening on". */
async function start(port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/serve.ts'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), TSX_TSCONFIG_PATH: 'tsconfig.dev.json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 600 && !out.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
  expect(out).toContain('listening on');
  return { child, output: () => out, exited };
}

it('serve(): upload -> bucket -> queue -> worker -> counters, in one process', async () => {
  const port = await freePort();
  const { child, exited } = await start(port);
  const base = `http://127.0.0.1:${port}`;
  const put = await fetch(`${base}/uploads/hello.txt`, { method: 'PUT', body: 'hello world' });
  expect(put.status).toBe(201);
  let counters = { uploads: 0, bytes: 0 };
  for (let i = 0; i < 100 && counters.uploads < 1; i++) {
    counters = (await (await fetch(`${base}/counters`)).json()) as typeof counters;
    if (counters.uploads < 1) await new Promise((r) => setTimeout(r, 50));
  }
  expect(counters).toEqual({ uploads: 1, bytes: 11 });
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

it('serve(): Ctrl-C lets an in-flight request finish, then the process exits 0', async () => {
  const port = await freePort();
  const { child, output, exited } = await start(port);
  let sendRest!: () => void;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode('first half, '));
      await new Promise<void>((r) => {
        sendRest = r;
      });
      controller.enqueue(new TextEncoder().encode('second half'));
      controller.close();
    },
  });
  const pending = fetch(`http://127.0.0.1:${port}/uploads/slow.txt`, {
    method: 'PUT',
    body,
    duplex: 'half',
  } as RequestInit);
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGINT');
  for (let i = 0; i < 100 && !output().includes('SIGINT'); i++) await new Promise((r) => setTimeout(r, 20));
  sendRest();
  const res = await pending;
  expect(res.status).toBe(201);
  expect(await res.json()).toEqual({ key: 'uploads/slow.txt', size: 23 });
  expect(await exited).toBe(0);
  expect(output()).toContain('stopped');
});
