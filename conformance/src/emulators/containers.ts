/**
 * Source (c): containers through testcontainers, used only when an emulator is not installed
 * locally and a Docker engine answers. testcontainers is imported lazily, so machines without
 * Docker never load it.
 *
 * Each service is made to listen inside the container on the same port number it gets on the
 * host, so the URLs it generates (SQS queue URLs, upload locations) are right outside as well.
 * With a local engine, host ports are bound to 127.0.0.1 only.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
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
    case 'moto': // LocalStack stands in for moto: same three services, same variables.
      return {
        id,
        image,
        portNames,
        environment: (p) => ({
          SERVICES: 's3,sqs,dynamodb',
          GATEWAY_LISTEN: `0.0.0.0:${p.http}`,
          LOCALSTACK_HOST: `${LOOPBACK}:${p.http}`,
          SQS_ENDPOINT_STRATEGY: 'path',
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

export interface RunningContainer {
  readonly endpoint: EmulatorEndpoint;
  stop(): Promise<void>;
}

/** Start the container for `plan` (the caller probes readiness with CATALOG[id].probe). */
export async function startContainer(
  plan: ContainerPlan,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningContainer> {
  const { GenericContainer } = await import('testcontainers');
  const loopbackOnly = dockerTarget(env)?.local ?? false;
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
  let container = new LoopbackContainer(plan.image).withExposedPorts(
    ...numbers.map((p) => ({ container: p, host: p })),
  );
  if (plan.command) container = container.withCommand(plan.command(ports));
  if (plan.environment) container = container.withEnvironment(plan.environment(ports));
  const started = await container.start();
  const mappedPorts = Object.fromEntries(plan.portNames.map((n) => [n, started.getMappedPort(ports[n]!)]));
  return {
    endpoint: endpointFromContainer(plan.id, { image: plan.image, host: started.getHost(), mappedPorts }),
    stop: async () => {
      await started.stop();
    },
  };
}
