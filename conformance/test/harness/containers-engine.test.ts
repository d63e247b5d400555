// The container source against a real Docker engine (podman here, through scripts/podman-setup.sh):
// a container is started by testcontainers, answers, and is gone after stop, after its owner is
// SIGKILLed, and, when both were lost, after the next start's sweep. Without an engine these
// tests are not run, unless POLYCLOUD_SOURCE=container asks for containers: then they fail.
import { spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/emulators/catalog.js';
import {
  CONTAINER_LABELS,
  containerPlan,
  dockerAvailable,
  dockerTarget,
  removeStaleContainers,
  startContainer,
} from '../../src/emulators/containers.js';
import { startEmulator } from '../../src/emulators/supervisor.js';

const engine = await dockerAvailable();
const required = process.env.POLYCLOUD_SOURCE === 'container';

/** Ids of containers carrying `label` (key or key=value), per the engine's API. */
function containersLabelled(label: string): Promise<string[]> {
  const target = dockerTarget();
  if (!target?.local) throw new Error('these tests need a local Docker engine socket');
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  return new Promise((resolve, reject) => {
    const req = http.get(
      { socketPath: target.socketPath, path: `/containers/json?all=1&filters=${filters}` },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve((JSON.parse(body) as { Id: string }[]).map((c) => c.Id)));
      },
    );
    req.on('error', reject);
  });
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return check();
}

describe('container engine', () => {
  it.runIf(required && !engine)('is there when POLYCLOUD_SOURCE=container', () => {
    expect.fail(
      `POLYCLOUD_SOURCE=container but no Docker engine answers (DOCKER_HOST=${process.env.DOCKER_HOST})`,
    );
  });
});

describe.runIf(engine)('container source on a real engine', () => {
  it('starts fake-gcs-server through testcontainers, serves it on 127.0.0.1, removes it on stop', async () => {
    const handle = await startEmulator('fake-gcs-server', {
      env: { ...process.env, POLYCLOUD_SOURCE: 'container' },
    });
    try {
      expect(handle.status.state, handle.status.reason).toBe('ready');
      expect(handle.status.endpoint?.source).toBe('container');
      expect(handle.status.endpoint?.env.STORAGE_EMULATOR_HOST).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await CATALOG['fake-gcs-server'].probe(handle.status.endpoint!.env, 'protocol');
      expect(await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${process.pid}`)).toHaveLength(1);
    } finally {
      await handle.stop();
    }
    expect(await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${process.pid}`)).toEqual([]);
  }, 120_000);

  it('a SIGKILLed owner leaves no container behind (watchdog)', async () => {
    const module = fileURLToPath(new URL('../../src/emulators/containers.ts', import.meta.url));
    const script = `
      const { containerPlan, startContainer } = await import(${JSON.stringify(module)});
      const c = await startContainer(containerPlan('fake-gcs-server'));
      console.log('started ' + c.containerId);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const id = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /started (\w+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code} before starting: ${out}`)));
    });
    expect(await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${child.pid}`)).toEqual([id]);
    child.kill('SIGKILL');
    const gone = await eventually(
      async () => (await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${child.pid}`)).length === 0,
      20_000,
    );
    expect(gone).toBe(true);
  }, 120_000);

  it('the next start removes containers whose owner is gone (watchdog lost too)', async () => {
    const { GenericContainer } = await import('testcontainers');
    // A pid that is certainly not alive: a child that has exited.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    const plan = containerPlan('fake-gcs-server')!;
    const orphan = await new GenericContainer(plan.image)
      .withLabels({
        [CONTAINER_LABELS.harness]: 'fake-gcs-server',
        [CONTAINER_LABELS.ownerPid]: String(dead.pid),
        [CONTAINER_LABELS.ownerHost]: os.hostname(),
      })
      .withCommand(['-scheme', 'http'])
      .start();
    expect(await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${dead.pid}`)).toEqual([orphan.getId()]);
    const removed = await removeStaleContainers();
    expect(removed).toContain(orphan.getId());
    expect(await containersLabelled(`${CONTAINER_LABELS.ownerPid}=${dead.pid}`)).toEqual([]);
    // Our own live containers are never swept.
    const mine = await startContainer(plan);
    try {
      expect(await removeStaleContainers()).not.toContain(mine.containerId);
      // What failure messages quote: the container's own log, demultiplexed.
      expect(await eventually(async () => /server started at/.test(await mine.logTail()), 10_000)).toBe(true);
    } finally {
      await mine.stop();
    }
  }, 120_000);
});
