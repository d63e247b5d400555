/**
 * Emulators for the benchmark sections, started through the conformance harness's supervisor
 * (bound to 127.0.0.1 on free ports, logs under $TMPDIR/polycloud-bench, stopped at the end).
 * A variable the harness honours (e.g. AWS_ENDPOINT_URL) makes it use that server instead.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../conformance/src/emulators/supervisor.js';
import type { EmulatorId } from '../../conformance/src/emulators/types.js';

export interface Running {
  readonly id: EmulatorId;
  readonly env: Readonly<Record<string, string>>;
  readonly description: string;
  stop(): Promise<void>;
}

const started = new Set<Running>();

/** Starts one emulator; throws with the harness's reason when it cannot. */
export async function start(id: EmulatorId): Promise<Running> {
  const logDir = path.join(os.tmpdir(), 'polycloud-bench');
  mkdirSync(logDir, { recursive: true });
  const handle = await startEmulator(id, { logDir, logName: `${id}-bench`, docker: false });
  const { status } = handle;
  if (status.state !== 'ready' || !status.endpoint) {
    await handle.stop();
    throw new Error(`${id} is not available (${status.state}): ${status.reason ?? 'no endpoint'}`);
  }
  const r: Running = {
    id,
    env: status.endpoint.env,
    description: status.endpoint.description,
    stop: async () => {
      started.delete(r);
      await handle.stop();
    },
  };
  started.add(r);
  return r;
}

/** Runs `body` with the emulator up and always stops it afterwards. */
export async function withEmulator<T>(id: EmulatorId, body: (e: Running) => Promise<T>): Promise<T> {
  const e = await start(id);
  try {
    return await body(e);
  } finally {
    await e.stop();
  }
}

/** Stops everything still running (signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...started].map((r) => r.stop()));
}

export function rand(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Azurite persisting to a scratch directory instead of memory: the harness runs it in memory
 * with a 512 MB extent limit, which the blob grid's overwrites of 16–64 MiB objects exceed
 * (Azurite frees overwritten extents only on its periodic GC). Same installed Azurite, same
 * flags otherwise; bound to 127.0.0.1; the directory is removed on stop.
 */
export async function startAzuriteOnDisk(): Promise<Running> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, openSync } = await import('node:fs');
  const { pinnedVersions } = await import('../../conformance/src/emulators/paths.js');
  const { azuriteConnectionString } = await import('../../conformance/src/emulators/catalog.js');
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '.emulators');
  const script = path.join(root, 'azurite', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'polycloud-bench-azurite-'));
  const [blob, queue, table] = [await freePort(), await freePort(), await freePort()];
  const logDir = path.join(os.tmpdir(), 'polycloud-bench');
  mkdirSync(logDir, { recursive: true });
  const out = openSync(path.join(logDir, 'azurite-disk-bench.log'), 'w');
  const host = '127.0.0.1';
  const child = spawn(
    process.execPath,
    [
      script,
      ...['--blobHost', host, '--blobPort', String(blob), '--queueHost', host, '--queuePort', String(queue)],
      ...['--tableHost', host, '--tablePort', String(table), '--location', dir],
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--loose',
    ],
    { stdio: ['ignore', out, out] },
  );
  const url = (p: number) => `http://${host}:${p}`;
  const deadline = performance.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url(blob)}/devstoreaccount1?comp=list`);
      if (r.status > 0) break;
    } catch {
      if (child.exitCode !== null || performance.now() > deadline) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`Azurite (on disk) did not start; see ${logDir}/azurite-disk-bench.log`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const version = pinnedVersions().emulators.azurite.version;
  const r: Running = {
    id: 'azurite',
    env: { AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(url(blob), url(queue), url(table)) },
    description: `azurite ${version} (process on ${host}:${blob}, on-disk persistence)`,
    stop: async () => {
      started.delete(r);
      if (child.exitCode === null) {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((res) => setTimeout(res, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(r);
  return r;
}
