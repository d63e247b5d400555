/** The emulators the harness knows how to install, start and stop. */
export type EmulatorId =
  | 'moto' // S3, SQS, DynamoDB
  | 'elasticmq' // SQS, second opinion
  | 'dynalite' // DynamoDB, second opinion
  | 'fake-gcs-server' // Cloud Storage
  | 'pstest' // Pub/Sub
  | 'bigtable-emulator' // Bigtable
  | 'azurite'; // Blob, Queue, Table

/** How an endpoint was obtained; reported in test output and conformance reports. */
export type EndpointSource = 'env' | 'process' | 'container';

/**
 * One running emulator as a test sees it.
 * `env` holds exactly the variables the cloud SDKs honour, e.g.
 * - moto: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * - elasticmq: AWS_ENDPOINT_URL_SQS (+ region and dummy credentials)
 * - dynalite: AWS_ENDPOINT_URL_DYNAMODB (+ region and dummy credentials)
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
