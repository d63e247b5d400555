/**
 * Source (c): containers through testcontainers, used only when an emulator is not installed
 * locally and a Docker engine answers. testcontainers is imported lazily, so machines without
 * Docker never load it.
 *
 * Each service is made to listen inside the container on the same port number it gets on the
 * host, so the URLs it generates (SQS queue URLs, upload locations) are right outside as well.
 * With a local engine, host ports are bound to 127.0.0.1 only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { WaitStrategy } from 'testcontainers';
import { CATALOG, GOOGLE_PROJECT } from './catalog.js';
import { pinnedVersions } from './paths.js';
import { freePorts, LOOPBACK } from './ports.js';
import type { EmulatorEndpoint, EmulatorId } from './types.js';

export interface ContainerPlan {
  readonly id: EmulatorId;
  readonly image: string;
  /** Port names, in CATALOG[id].portNames order. */
  readonly portNames: readonly string[];
  readonly command?: (ports: Readonly<Record<string, number>>) => string[];
  readonly environment?: (ports: Readonly<Record<string, number>>) => Record<string, string>;
}

/** A started container as far as the endpoint is concerned. */
export interface StartedContainerInfo {
  readonly image: string;
  /** Host the mapped ports are reachable on (testcontainers' getHost()). */
  readonly host: string;
  /** Port name → mapped host port. */
  readonly mappedPorts: Readonly<Record<string, number>>;
}

function gcloudEmulator(service: 'pubsub' | 'bigtable') {
  return (ports: Readonly<Record<string, number>>) => [
    'gcloud',
    'beta',
    'emulators',
    service,
    'start',
    `--host-port=0.0.0.0:${ports.grpc}`,
    ...(service === 'pubsub' ? [`--project=${GOOGLE_PROJECT}`] : []),
  ];
}

/** The container for each emulator id, or undefined when there is none (ElasticMQ, dynalite). */
export function containerPlan(id: EmulatorId): ContainerPlan | undefined {
  const image = pinnedVersions().containers[id];
  if (!image) return undefined;
  const portNames = CATALOG[id].portNames;
  switch (id) {
    case 'moto': // motoserver/moto: ENTRYPOINT moto_server -H 0.0.0.0
      return { id, image, portNames, command: (p) => ['-p', String(p.http)] };
    case 'localstack':
      return {
        id,
        image,
        portNames,
        environment: (p) => ({
          SERVICES: 's3,sqs,dynamodb',
          GATEWAY_LISTEN: `0.0.0.0:${p.http}`,
          LOCALSTACK_HOST: `${LOOPBACK}:${p.http}`,
          SQS_ENDPOINT_STRATEGY: 'path',
          S3_SKIP_SIGNATURE_VALIDATION: '0',
        }),
      };
    case 'fake-gcs-server':
      return {
        id,
        image,
        portNames,
        command: (p) => [
          '-scheme',
          'http',
          '-host',
          '0.0.0.0',
          '-port',
          String(p.http),
          '-external-url',
          `http://${LOOPBACK}:${p.http}`,
          '-public-host',
          `${LOOPBACK}:${p.http}`,
          '-backend',
          'memory',
        ],
      };
    case 'pstest':
      return { id, image, portNames, command: gcloudEmulator('pubsub') };
    case 'bigtable-emulator':
      return { id, image, portNames, command: gcloudEmulator('bigtable') };
    case 'azurite':
      return {
        id,
        image,
        portNames,
        command: (p) => [
          'azurite',
          '--blobHost',
          '0.0.0.0',
          '--blobPort',
          String(p.blob),
          '--queueHost',
          '0.0.0.0',
          '--queuePort',
          String(p.queue),
          '--tableHost',
          '0.0.0.0',
          '--tablePort',
          String(p.table),
          '--inMemoryPersistence',
          '--skipApiVersionCheck',
          '--disableTelemetry',
          '--loose',
        ],
      };
    default:
      return undefined;
  }
}

/** Pure: what the tests get for a started container. */
export function endpointFromContainer(id: EmulatorId, info: StartedContainerInfo): EmulatorEndpoint {
  const def = CATALOG[id];
  for (const name of def.portNames) {
    if (info.mappedPorts[name] === undefined)
      throw new Error(`${id}: container has no mapped port "${name}"`);
  }
  // Docker Desktop and testcontainers report "localhost"; keep IPv4 explicit for gRPC clients.
  const host = info.host === 'localhost' ? LOOPBACK : info.host;
  const where = def.portNames.map((n) => `${host}:${info.mappedPorts[n]}`).join(', ');
  return {
    id,
    source: 'container',
    env: def.env(host, info.mappedPorts),
    description: `${id} via container ${info.image} (${where})`,
  };
}

/** Where the Docker engine is, per DOCKER_HOST or the usual socket paths. */
export function dockerTarget(
  env: NodeJS.ProcessEnv = process.env,
): { socketPath: string; local: true } | { url: string; local: false } | undefined {
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost?.startsWith('unix://'))
    return { socketPath: dockerHost.slice('unix://'.length), local: true };
  if (dockerHost?.startsWith('tcp://'))
    return { url: `http://${dockerHost.slice('tcp://'.length)}`, local: false };
  const candidates = [
    '/var/run/docker.sock',
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
    ...(env.XDG_RUNTIME_DIR ? [path.join(env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
  ];
  const socketPath = candidates.find((p) => existsSync(p));
  return socketPath ? { socketPath, local: true } : undefined;
}

/** True when a Docker engine answers GET /_ping. POLYCLOUD_DOCKER=0 turns the container path off. */
export async function dockerAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.POLYCLOUD_DOCKER === '0' || env.POLYCLOUD_DOCKER === 'off') return false;
  const target = dockerTarget(env);
  if (!target) return false;
  return new Promise((resolve) => {
    const onResponse = (res: http.IncomingMessage) => {
      res.resume();
      resolve(res.statusCode === 200);
    };
    const req = target.local
      ? http.request(
          { socketPath: target.socketPath, path: '/_ping', timeout: 1_500, agent: false },
          onResponse,
        )
      : http.request(`${target.url}/_ping`, { timeout: 1_500, agent: false }, onResponse);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Labels on every container the harness starts; stale ones are found and removed by them. */
export const CONTAINER_LABELS = {
  harness: 'org.polycloud.harness',
  ownerPid: 'org.polycloud.owner-pid',
  ownerHost: 'org.polycloud.owner-host',
} as const;

/** One request to the Docker Engine API (podman serves the same API). */
function dockerRequest(
  method: 'GET' | 'DELETE',
  apiPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; body: string }> {
  return dockerRequestRaw(method, apiPath, env).then((r) => ({
    status: r.status,
    body: r.body.toString('utf8'),
  }));
}

function dockerRequestRaw(
  method: 'GET' | 'DELETE',
  apiPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; body: Buffer }> {
  const target = dockerTarget(env);
  if (!target) return Promise.reject(new Error('no Docker engine (DOCKER_HOST unset, no socket found)'));
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    };
    const options = { method, timeout: 30_000, agent: false } as const;
    const req = target.local
      ? http.request({ ...options, socketPath: target.socketPath, path: apiPath }, onResponse)
      : http.request(`${target.url}${apiPath}`, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`Docker API ${method} ${apiPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface ListedContainer {
  readonly Id: string;
  readonly Labels?: Record<string, string> | null;
}

/**
 * Removes containers (and networks) this harness started from processes on this host that no
 * longer exist: what a SIGKILLed run that also lost its watchdog left behind. Returns their ids.
 */
export async function removeStaleContainers(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [CONTAINER_LABELS.harness] }));
  const removed: string[] = [];
  for (const kind of ['containers', 'networks'] as const) {
    const list = await dockerRequest(
      'GET',
      kind === 'containers' ? `/containers/json?all=1&filters=${filters}` : `/networks?filters=${filters}`,
      env,
    );
    if (list.status !== 200) continue;
    for (const c of JSON.parse(list.body) as ListedContainer[]) {
      const labels = c.Labels ?? {};
      const pid = Number(labels[CONTAINER_LABELS.ownerPid]);
      if (labels[CONTAINER_LABELS.ownerHost] !== os.hostname() || !Number.isInteger(pid)) continue;
      if (processAlive(pid)) continue;
      const res = await dockerRequest(
        'DELETE',
        kind === 'containers' ? `/containers/${c.Id}?force=true&v=true` : `/networks/${c.Id}`,
        env,
      );
      if (res.status < 300 || res.status === 404) removed.push(c.Id);
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A detached Node process that removes this process's containers once this process is gone
 * (normal teardown removes them first; this covers SIGKILL and crashes). One per process, started
 * with the first container; it exits on its own after cleaning up.
 */
let watchdogStarted = false;
function startContainerWatchdog(env: NodeJS.ProcessEnv): void {
  if (watchdogStarted) return;
  watchdogStarted = true;
  const target = dockerTarget(env);
  if (!target) return;
  const filters = JSON.stringify({ label: [`${CONTAINER_LABELS.ownerPid}=${process.pid}`] });
  const script = `
const http = require('node:http');
const [pid, where, filters] = process.argv.slice(1);
const t = JSON.parse(where);
const req = (method, p) => new Promise((resolve) => {
  const o = { method, agent: false, timeout: 30000 };
  const r = t.local ? http.request({ ...o, socketPath: t.socketPath, path: p }, done) : http.request(t.url + p, o, done);
  function done(res) { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(b)); }
  r.on('error', () => resolve('[]')); r.on('timeout', () => r.destroy()); r.end();
});
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
const timer = setInterval(async () => {
  if (alive()) return;
  clearInterval(timer);
  const list = JSON.parse(await req('GET', '/containers/json?all=1&filters=' + encodeURIComponent(filters)) || '[]');
  for (const c of list) await req('DELETE', '/containers/' + c.Id + '?force=true&v=true');
}, 1000);
`;
  const child = spawn(
    process.execPath,
    ['-e', script, String(process.pid), JSON.stringify(target), filters],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  child.on('error', () => {});
  child.unref();
  const stopWatchdog = () => child.kill('SIGKILL');
  watchdogKillers.push(stopWatchdog);
}
const watchdogKillers: (() => void)[] = [];

/** Containers started by this process and not yet stopped: stop() in teardown removes them. */
const liveContainers = new Set<string>();

/** Resolves immediately: the harness probes readiness itself with the emulator's own request. */
const noWait: WaitStrategy = {
  waitUntilReady: async () => {},
  withStartupTimeout() {
    return this;
  },
  isStartupTimeoutSet: () => false,
  getStartupTimeout: () => 0,
};

export interface RunningContainer {
  readonly endpoint: EmulatorEndpoint;
  /** Container id (for logs and cleanup checks). */
  readonly containerId: string;
  /** The last lines the container wrote (stdout and stderr), for failure messages. */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Demultiplexes a Docker log stream (8-byte frame headers) into text; raw text passes through. */
export function demuxDockerLog(body: Buffer): string {
  const parts: string[] = [];
  let at = 0;
  while (at + 8 <= body.length && body[at]! <= 2 && body.readUIntBE(at + 1, 3) === 0) {
    const size = body.readUInt32BE(at + 4);
    parts.push(body.subarray(at + 8, at + 8 + size).toString('utf8'));
    at += 8 + size;
  }
  return at === 0 ? body.toString('utf8') : parts.join('');
}

let staleSweep: Promise<unknown> | undefined;

/**
 * Start the container for `plan` (the caller probes readiness with CATALOG[id].probe). Ryuk, the
 * testcontainers reaper, is not used (its image cannot be pulled everywhere): the harness labels
 * its containers with its pid and removes them on stop, through a watchdog when it dies, and on
 * the next start when both were lost.
 */
export async function startContainer(
  plan: ContainerPlan,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningContainer> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  if (env.DOCKER_HOST && !process.env.DOCKER_HOST) process.env.DOCKER_HOST = env.DOCKER_HOST;
  staleSweep ??= removeStaleContainers(env).catch(() => []);
  await staleSweep;
  startContainerWatchdog(env);
  const { GenericContainer } = await import('testcontainers');
  const loopbackOnly = dockerTarget(env)?.local ?? false;
  // Ports are published on 127.0.0.1 only; without this, testcontainers running inside a
  // container (a CI runner, this machine) would reach for the bridge gateway instead.
  if (loopbackOnly) process.env.TESTCONTAINERS_HOST_OVERRIDE ??= LOOPBACK;
  class LoopbackContainer extends GenericContainer {
    protected override async beforeContainerCreated(): Promise<void> {
      if (!loopbackOnly) return;
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = LOOPBACK;
      }
    }
  }
  const numbers = await freePorts(plan.portNames.length);
  const ports = Object.fromEntries(plan.portNames.map((n, i) => [n, numbers[i]!]));
  let container = new LoopbackContainer(plan.image)
    .withExposedPorts(...numbers.map((p) => ({ container: p, host: p })))
    .withLabels({
      [CONTAINER_LABELS.harness]: plan.id,
      [CONTAINER_LABELS.ownerPid]: String(process.pid),
      [CONTAINER_LABELS.ownerHost]: os.hostname(),
    })
    .withWaitStrategy(noWait);
  if (plan.command) container = container.withCommand(plan.command(ports));
  if (plan.environment) container = container.withEnvironment(plan.environment(ports));
  const started = await container.start();
  const containerId = started.getId();
  liveContainers.add(containerId);
  const mappedPorts = Object.fromEntries(plan.portNames.map((n) => [n, started.getMappedPort(ports[n]!)]));
  let stopping: Promise<void> | undefined;
  return {
    endpoint: endpointFromContainer(plan.id, { image: plan.image, host: started.getHost(), mappedPorts }),
    containerId,
    logTail: async (lines = 20) => {
      const res = await dockerRequestRaw(
        'GET',
        `/containers/${containerId}/logs?stdout=1&stderr=1&tail=${lines}`,
        env,
      );
      return demuxDockerLog(res.body).trim();
    },
    stop: () => {
      stopping ??= (async () => {
        // timeout 0: an emulator holds nothing worth a graceful shutdown; remove volumes too.
        await started.stop({ timeout: 0, remove: true, removeVolumes: true }).catch(async () => {
          await dockerRequest('DELETE', `/containers/${containerId}?force=true&v=true`, env);
        });
        liveContainers.delete(containerId);
        if (liveContainers.size === 0) {
          for (const kill of watchdogKillers.splice(0)) kill();
          watchdogStarted = false;
        }
      })();
      return stopping;
    },
  };
}
