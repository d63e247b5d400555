/**
 * What the harness knows about each emulator: how it is run from .emulators/, how readiness is
 * checked, and which variables point an SDK at it. Installing lives in install.ts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulatorsDir, pinnedVersions } from './paths.js';
import { expectGrpcOk, expectHttp, protoStringField1 } from './probes.js';
import type { EmulatorId } from './types.js';

/** Region and dummy credentials every AWS emulator gets (none of them checks signatures). */
export const AWS_DEFAULTS = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
} as const;

/** Project id the Google emulators are used with (any id works; none is checked). */
export const GOOGLE_PROJECT = 'polycloud-test';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(blob: string, queue: string, table: string): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=${blob}/${AZURITE_ACCOUNT};QueueEndpoint=${queue}/${AZURITE_ACCOUNT};` +
    `TableEndpoint=${table}/${AZURITE_ACCOUNT};`
  );
}

/** Parse `Key=Value;...` (values may contain '='). */
export function parseConnectionString(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Blob/queue/table endpoints of an Azure Storage connection string (UseDevelopmentStorage=true included). */
export function azureEndpoints(connectionString: string): { blob?: string; queue?: string; table?: string } {
  const parts = parseConnectionString(connectionString);
  if (parts.UseDevelopmentStorage === 'true') {
    return {
      blob: `http://127.0.0.1:10000/${AZURITE_ACCOUNT}`,
      queue: `http://127.0.0.1:10001/${AZURITE_ACCOUNT}`,
      table: `http://127.0.0.1:10002/${AZURITE_ACCOUNT}`,
    };
  }
  return { blob: parts.BlobEndpoint, queue: parts.QueueEndpoint, table: parts.TableEndpoint };
}

export interface RunContext {
  /** .emulators (or POLYCLOUD_EMULATORS_DIR). */
  readonly root: string;
  readonly host: string;
  readonly ports: Readonly<Record<string, number>>;
  /** A fresh scratch directory for this start, removed after stop. */
  readonly runDir: string;
  /**
   * Keep state on disk under `runDir` where the emulator can (Azurite, dynalite), so a restart
   * on the same directory finds it again. Default false: in memory.
   */
  readonly persistent?: boolean;
}

export interface Command {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * - identity: the answer must come from this very emulator (process source: guards against
 *   another server that took the port);
 * - protocol: any server speaking the protocol (env and container sources, e.g. LocalStack).
 */
export type ProbeMode = 'identity' | 'protocol';

export interface EmulatorDefinition {
  readonly id: EmulatorId;
  readonly title: string;
  readonly services: string;
  /** Names of the ports to allocate, in order. */
  readonly portNames: readonly string[];
  /** A file the install leaves behind; its absence means "not installed". */
  marker(root: string): string;
  /** Executables the run needs on PATH besides the installed files. */
  readonly runtimeTools: readonly string[];
  command(ctx: RunContext): Command;
  /** Variables the SDKs honour, for an emulator reachable at host/ports. */
  env(host: string, ports: Readonly<Record<string, number>>): Record<string, string>;
  /** One readiness request against the endpoint described by `env`. */
  probe(env: Readonly<Record<string, string>>, mode: ProbeMode): Promise<void>;
}

const url = (host: string, port: number | undefined) => `http://${host}:${port}`;
const anyHttpAnswer = () => true;

const moto: EmulatorDefinition = {
  id: 'moto',
  title: 'moto server',
  services: 'S3, SQS, DynamoDB',
  portNames: ['http'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'moto-venv', 'bin', 'moto_server'),
  command: ({ root, host, ports }) => ({
    command: path.join(root, 'moto-venv', 'bin', 'moto_server'),
    args: ['-H', host, '-p', String(ports.http)],
    env: { PYTHONUNBUFFERED: '1' },
  }),
  env: (host, ports) => ({ AWS_ENDPOINT_URL: url(host, ports.http), ...AWS_DEFAULTS }),
  probe: (env, mode) =>
    mode === 'identity'
      ? expectHttp(
          `${env.AWS_ENDPOINT_URL}/moto-api/data.json`,
          (r) => r.status === 200 && r.body.startsWith('{'),
        )
      : expectHttp(`${env.AWS_ENDPOINT_URL}/`, anyHttpAnswer),
};

const elasticmq: EmulatorDefinition = {
  id: 'elasticmq',
  title: 'ElasticMQ',
  services: 'SQS',
  portNames: ['http'],
  runtimeTools: ['java'],
  marker: (root) =>
    path.join(
      root,
      'elasticmq',
      'lib',
      `elasticmq-server_2.13-${pinnedVersions().emulators.elasticmq.version}.jar`,
    ),
  command: ({ root, host, ports, runDir }) => {
    const config = path.join(runDir, 'elasticmq.conf');
    writeFileSync(
      config,
      [
        'include classpath("application.conf")',
        `node-address { protocol = "http", host = "${host}", port = ${ports.http}, context-path = "" }`,
        `rest-sqs { enabled = true, bind-port = ${ports.http}, bind-hostname = "${host}", sqs-limits = strict }`,
        'generate-node-address = false',
        `aws { region = "${AWS_DEFAULTS.AWS_REGION}", accountId = "000000000000" }`,
        '',
      ].join('\n'),
    );
    return {
      command: 'java',
      // Client VM settings: ElasticMQ is short-lived here, start-up time matters more than peak speed.
      args: [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-Xss1m',
        `-Dconfig.file=${config}`,
        '-cp',
        `${path.join(root, 'elasticmq', 'lib')}${path.sep}*`,
        'org.elasticmq.server.Main',
      ],
      cwd: runDir,
    };
  },
  env: (host, ports) => ({ AWS_ENDPOINT_URL_SQS: url(host, ports.http), ...AWS_DEFAULTS }),
  probe: (env, mode) =>
    expectHttp(`${env.AWS_ENDPOINT_URL_SQS}/?Action=ListQueues&Version=2012-11-05`, (r) =>
      mode === 'identity' ? r.status === 200 && r.body.includes('ListQueuesResponse') : r.status > 0,
    ),
};

const dynalite: EmulatorDefinition = {
  id: 'dynalite',
  title: 'dynalite',
  services: 'DynamoDB',
  portNames: ['http'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'dynalite', 'node_modules', 'dynalite', 'cli.js'),
  command: ({ root, host, ports, runDir, persistent }) => ({
    command: process.execPath,
    args: [
      path.join(root, 'dynalite', 'node_modules', 'dynalite', 'cli.js'),
      '--host',
      host,
      '--port',
      String(ports.http),
      ...(persistent ? ['--path', path.join(runDir, 'dynalite-db')] : []),
    ],
  }),
  env: (host, ports) => ({ AWS_ENDPOINT_URL_DYNAMODB: url(host, ports.http), ...AWS_DEFAULTS }),
  probe: (env, mode) =>
    expectHttp(
      `${env.AWS_ENDPOINT_URL_DYNAMODB}/`,
      (r) => (mode === 'identity' ? r.status === 200 && r.body.includes('TableNames') : r.status > 0),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          // dynalite wants an Authorization header but does not verify the signature.
          authorization:
            'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-date': '20240101T000000Z',
        },
        body: '{}',
      },
    ),
};

/**
 * LocalStack community 4.14.0 (the last release without an auth token) in host mode. Its
 * DynamoDB provider downloads a JDK 21 and DynamoDB Local on first use, which cannot be had
 * without network access, so only S3 and SQS are run (docs/emulators.md).
 */
const localstack: EmulatorDefinition = {
  id: 'localstack',
  title: 'LocalStack',
  services: 'S3, SQS',
  portNames: ['http'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'localstack-venv', 'bin', 'localstack-supervisor'),
  command: ({ root, host, ports, runDir }) => ({
    command: path.join(root, 'localstack-venv', 'bin', 'python'),
    args: ['-m', 'localstack.runtime.main'],
    cwd: runDir,
    env: {
      PYTHONUNBUFFERED: '1',
      // Only the AWS emulation, not the CLI's container management.
      RUNTIME_COMPONENTS: 'aws',
      SERVICES: 's3,sqs',
      // It detects this machine as a container and would write to /var/lib/localstack.
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: path.join(runDir, 'fs'),
      GATEWAY_LISTEN: `${host}:${ports.http}`,
      LOCALSTACK_HOST: `${host}:${ports.http}`,
      SQS_ENDPOINT_STRATEGY: 'path',
      // Check presigned URLs (signature and expiry) as S3 does; LocalStack skips that by default.
      S3_SKIP_SIGNATURE_VALIDATION: '0',
      // No DNS server and no certificate download: nothing outside 127.0.0.1.
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
    },
  }),
  env: (host, ports) => ({ AWS_ENDPOINT_URL: url(host, ports.http), ...AWS_DEFAULTS }),
  probe: (env, mode) =>
    expectHttp(`${env.AWS_ENDPOINT_URL}/_localstack/health`, (r) =>
      mode === 'identity' ? r.status === 200 && r.body.includes('"s3"') : r.status > 0,
    ),
};

const fakeGcs: EmulatorDefinition = {
  id: 'fake-gcs-server',
  title: 'fake-gcs-server',
  services: 'Cloud Storage',
  portNames: ['http'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'fake-gcs-server', 'bin', 'fake-gcs-server'),
  command: ({ root, host, ports, runDir }) => ({
    command: path.join(root, 'fake-gcs-server', 'bin', 'fake-gcs-server'),
    args: [
      '-scheme',
      'http',
      '-host',
      host,
      '-port',
      String(ports.http),
      '-external-url',
      url(host, ports.http),
      '-public-host',
      `${host}:${ports.http}`,
      '-backend',
      'memory',
      '-data',
      path.join(runDir, 'seed'), // does not exist: start empty
      '-log-level',
      'warn',
    ],
    cwd: runDir,
  }),
  env: (host, ports) => ({
    STORAGE_EMULATOR_HOST: url(host, ports.http),
    GOOGLE_CLOUD_PROJECT: GOOGLE_PROJECT,
  }),
  probe: (env, mode) =>
    expectHttp(`${env.STORAGE_EMULATOR_HOST}/storage/v1/b?project=${GOOGLE_PROJECT}`, (r) =>
      mode === 'identity' ? r.status === 200 && r.body.includes('storage#buckets') : r.status > 0,
    ),
};

const pstest: EmulatorDefinition = {
  id: 'pstest',
  title: 'pstest (Pub/Sub fake)',
  services: 'Pub/Sub',
  portNames: ['grpc'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'pstest', 'bin', 'pstest'),
  command: ({ root, host, ports }) => ({
    command: path.join(root, 'pstest', 'bin', 'pstest'),
    args: ['-host', host, '-port', String(ports.grpc)],
  }),
  env: (host, ports) => ({
    PUBSUB_EMULATOR_HOST: `${host}:${ports.grpc}`,
    GOOGLE_CLOUD_PROJECT: GOOGLE_PROJECT,
  }),
  probe: (env) =>
    expectGrpcOk(
      env.PUBSUB_EMULATOR_HOST!,
      '/google.pubsub.v1.Publisher/ListTopics',
      protoStringField1(`projects/${GOOGLE_PROJECT}`),
    ),
};

const bigtable: EmulatorDefinition = {
  id: 'bigtable-emulator',
  title: 'Bigtable emulator',
  services: 'Bigtable',
  portNames: ['grpc'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'bigtable-emulator', 'bin', 'emulator'),
  command: ({ root, host, ports }) => ({
    command: path.join(root, 'bigtable-emulator', 'bin', 'emulator'),
    args: ['-host', host, '-port', String(ports.grpc)],
  }),
  env: (host, ports) => ({
    BIGTABLE_EMULATOR_HOST: `${host}:${ports.grpc}`,
    GOOGLE_CLOUD_PROJECT: GOOGLE_PROJECT,
  }),
  probe: (env) =>
    expectGrpcOk(
      env.BIGTABLE_EMULATOR_HOST!,
      '/google.bigtable.admin.v2.BigtableTableAdmin/ListTables',
      protoStringField1(`projects/${GOOGLE_PROJECT}/instances/probe`),
    ),
};

const azurite: EmulatorDefinition = {
  id: 'azurite',
  title: 'Azurite',
  services: 'Blob, Queue, Table',
  portNames: ['blob', 'queue', 'table'],
  runtimeTools: [],
  marker: (root) => path.join(root, 'azurite', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js'),
  command: ({ root, host, ports, runDir, persistent }) => ({
    command: process.execPath,
    args: [
      path.join(root, 'azurite', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js'),
      '--blobHost',
      host,
      '--blobPort',
      String(ports.blob),
      '--queueHost',
      host,
      '--queuePort',
      String(ports.queue),
      '--tableHost',
      host,
      '--tablePort',
      String(ports.table),
      // In memory: nothing to clean up. (Azurite rejects --location together with it, so the
      // scratch directory is the working directory instead.) Persistent: on disk in runDir.
      ...(persistent
        ? ['--location', path.join(runDir, 'azurite-data')]
        : ['--inMemoryPersistence', '--extentMemoryLimit', '512']),
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--loose',
    ],
    cwd: runDir,
  }),
  env: (host, ports) => ({
    AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(
      url(host, ports.blob),
      url(host, ports.queue),
      url(host, ports.table),
    ),
  }),
  probe: async (env, mode) => {
    const endpoints = azureEndpoints(env.AZURE_STORAGE_CONNECTION_STRING ?? '');
    const services = [
      ['blob', endpoints.blob],
      ['queue', endpoints.queue],
      ['table', endpoints.table],
    ] as const;
    await Promise.all(
      services
        .filter(([, endpoint]) => endpoint !== undefined)
        .map(([service, endpoint]) =>
          expectHttp(`${endpoint}?comp=list`, (r) =>
            mode === 'identity'
              ? String(r.headers.server ?? '')
                  .toLowerCase()
                  .startsWith(`azurite-${service}`)
              : r.status > 0,
          ),
        ),
    );
  },
};

export const CATALOG: Readonly<Record<EmulatorId, EmulatorDefinition>> = {
  moto,
  elasticmq,
  dynalite,
  localstack,
  'fake-gcs-server': fakeGcs,
  pstest,
  'bigtable-emulator': bigtable,
  azurite,
};

export function definition(id: EmulatorId): EmulatorDefinition {
  return CATALOG[id];
}

/** Convenience: the install root for the current environment. */
export function installRoot(env: NodeJS.ProcessEnv = process.env): string {
  return emulatorsDir(env);
}
