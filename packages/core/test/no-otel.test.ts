import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// An application that never installed @opentelemetry/api (an optional peer): the built packages
// are copied (not linked: a link's real path would find the repository's node_modules) into a
// fresh folder where the module cannot be resolved, and a user-style script runs there in its own
// process with warnings on. DESIGN §12: without it nothing is recorded and nothing is loaded.
const root = fileURLToPath(new URL('../../../', import.meta.url));
let app: string;

const SCRIPT = `
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
const say = (l) => process.stdout.write(l + '\\n');
process.on('unhandledRejection', (e) => { say('UNHANDLED ' + String(e)); process.exitCode = 70; });
const b = await openBucket('mem://no-otel');
await b.put('a.txt', 'hello');
say('get ' + (await b.getText('a.txt')));
try { await b.getBytes('missing'); } catch (e) { say('error ' + (isPolycloudError(e) ? e.code : 'RAW ' + e)); }
const q = await openQueue('mem://no-otel');
await q.send({ n: 1 });
const [m] = await q.receive({ waitSeconds: 1 });
say('received ' + JSON.stringify(m?.body) + ' attrs ' + JSON.stringify(m?.attributes));
await q.ack(m);
const c = q.consume(async (msg) => { say('handled ' + JSON.stringify(msg.body)); void c.stop(); });
await q.send('ping');
await c.done;
const kv = await openKv('mem://no-otel');
say('incr ' + (await kv.increment('n', 2)).value);
await Promise.all([b.close(), q.close(), kv.close()]);
try { await import('@opentelemetry/api'); say('otel present'); } catch (e) { say('otel absent ' + e.code); }
say('done');
`;

describe('an application without @opentelemetry/api', () => {
  beforeAll(() => {
    // The copies come from dist: build it (incremental, quick when up to date).
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'adapters/memory'],
      {
        cwd: root,
        stdio: 'pipe',
      },
    );
    app = mkdtempSync(join(tmpdir(), 'polycloud-no-otel-'));
    for (const [name, dir] of [
      ['core', 'packages/core'],
      ['memory', 'adapters/memory'],
    ] as const) {
      const to = join(app, 'node_modules/@polycloud', name);
      mkdirSync(to, { recursive: true });
      cpSync(join(root, dir, 'package.json'), join(to, 'package.json'));
      cpSync(join(root, dir, 'dist'), join(to, 'dist'), { recursive: true });
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    writeFileSync(join(app, 'main.js'), SCRIPT);
  }, 120_000);
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('runs clean: exit 0, no warning, no unhandled rejection, the same results', () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_NO_WARNINGS;
    delete env.NODE_PATH;
    const r = spawnSync(process.execPath, ['main.js'], { cwd: app, env, encoding: 'utf8', timeout: 60_000 });
    const out = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(r.stderr, out).toBe('');
    expect(r.stdout.trim().split('\n'), out).toEqual([
      'get hello',
      'error NOT_FOUND',
      'received {"n":1} attrs {}',
      'handled "ping"',
      'incr 2',
      'otel absent ERR_MODULE_NOT_FOUND',
      'done',
    ]);
  }, 90_000);
});
