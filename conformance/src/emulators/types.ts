/** The emulators the harness knows how to install, start and stop. */
export type EmulatorId =
  | 'moto' // S3, SQS, DynamoDB
  | 'elasticmq' // SQS, second opinion
  | 'dynalite' // DynamoDB, second opinion
  | 'localstack' // S3, SQS: LocalStack community 4.14 in host mode (DynamoDB needs downloads)
  | 'fake-gcs-server' // Cloud Storage
  | 'pstest' // Pub/Sub
  | 'bigtable-emulator' // Bigtable
  | 'azurite'; // Blob, Queue, Table

/**
 * How an endpoint was obtained; reported in test output and conformance reports (where `env` is
 * written `provided`).
 */
export type EndpointSource = 'env' | 'process' | 'container';

/**
 * One running emulator as a test sees it.
 * `env` holds exactly the variables the cloud SDKs honour, e.g.
 * - moto: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * - elasticmq: AWS_ENDPOINT_URL_SQS (+ region and dummy credentials)
 * - dynalite: AWS_ENDPOINT_URL_DYNAMODB (+ region and dummy credentials)
 * - localstack: AWS_ENDPOINT_URL (+ region and dummy credentials), as moto (S3 and SQS only)
 * - fake-gcs-server: STORAGE_EMULATOR_HOST (with scheme, http://127.0.0.1:PORT)
 * - pstest: PUBSUB_EMULATOR_HOST (host:port)
 * - bigtable-emulator: BIGTABLE_EMULATOR_HOST (host:port)
 * - azurite: AZURE_STORAGE_CONNECTION_STRING (blob, queue and table endpoints)
 */
export interface EmulatorEndpoint {
  readonly id: EmulatorId;
  readonly source: EndpointSource;
  readonly env: Readonly<Record<string, string>>;
  /** e.g. "moto 5.1.x (process on 127.0.0.1:41234)". */
  readonly description: string;
}

/** Every emulator id, in start/report order. */
export const EMULATOR_IDS: readonly EmulatorId[] = [
  'moto',
  'elasticmq',
  'dynalite',
  'localstack',
  'fake-gcs-server',
  'pstest',
  'bigtable-emulator',
  'azurite',
];

/** Whether `value` names a known emulator (narrows a string read from the environment or argv). */
export function isEmulatorId(value: string): value is EmulatorId {
  return (EMULATOR_IDS as readonly string[]).includes(value);
}

/**
 * What the harness knows about one emulator after global setup. Plain data: it crosses from the
 * main vitest process to the test workers through `provide`/`inject`.
 */
export interface EmulatorStatus {
  readonly id: EmulatorId;
  /**
   * - ready: `endpoint` is usable;
   * - missing: no source could provide it (not installed, no Docker, no variable): tests fail
   *   unless POLYCLOUD_EMULATORS=optional;
   * - failed: a source was there but the emulator did not come up (see `reason` and the log);
   * - not-selected: POLYCLOUD_EMULATORS names a subset that leaves this one out (tests: not run).
   */
  readonly state: 'ready' | 'missing' | 'failed' | 'not-selected';
  readonly endpoint?: EmulatorEndpoint;
  /** Pinned version from conformance/emulators/versions.json. */
  readonly version: string;
  /** Why it is not ready, with what to do about it. */
  readonly reason?: string;
  /** Milliseconds from spawn (or container start) to the first successful readiness request. */
  readonly startupMs?: number;
  /** Milliseconds the last `npm run emulators:install` took for it (from its stamp). */
  readonly installMs?: number;
  /** Process id (= process group id) of a process-started emulator. */
  readonly pid?: number;
  /** Process log, for process-started emulators: reports/emulators/<id>.log. */
  readonly logFile?: string;
}

/** What global setup provides to the workers under the key 'polycloud:emulators'. */
export interface EmulatorsContext {
  /** POLYCLOUD_EMULATORS=optional: unavailable emulators make tests "not run" instead of failing. */
  readonly optional: boolean;
  readonly statuses: readonly EmulatorStatus[];
}
