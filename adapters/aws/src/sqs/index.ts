import { GetQueueUrlCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  type DriverOpenOptions,
  invalidArgument,
  type QueueDriver,
  urlBool,
  urlParams,
} from '@polycloud/core/driver/base';
import { Queue, type QueueOptions } from '@polycloud/core/queue';
import {
  type AwsConnectionOptions,
  checkEndpoint,
  checkedEndpoint,
  driverOptionsOf,
  HTTP_TIMEOUTS,
  resolveRegion,
  SDK_RETRIES_OFF,
  urlResourceName,
} from '../config.js';
import { mapAwsError } from '../errors.js';
import { describeQueue, SqsQueueDriver } from './driver.js';

export type { AwsConnectionOptions } from '../config.js';
export { BODY_MARKER, decodeBody, encodeBody, UTF8_ATTRIBUTE_TYPE } from './codec.js';
export {
  describeQueue,
  SqsQueueDriver,
  type SqsQueueInfo,
  sqsCapabilities,
  UNGROUPED_PREFIX,
  ungroupedGroupId,
} from './driver.js';

/** Options for an SQS queue: a name (resolved with GetQueueUrl) or a queue URL. */
export interface SqsQueueOptions<T = unknown> extends AwsConnectionOptions, QueueOptions<T> {
  /** The queue's name (FIFO names end in `.fifo`); resolved with GetQueueUrl. */
  readonly queueName?: string;
  /** The queue's URL, when known (skips GetQueueUrl). */
  readonly queueUrl?: string;
  /** Account that owns the queue, for GetQueueUrl across accounts. */
  readonly queueOwnerAccountId?: string;
  /** An already-configured client; close() then leaves it open. */
  readonly client?: SQSClient;
  /** Extra client settings (credentials, retry strategy, ...). */
  readonly clientConfig?: SQSClientConfig;
  readonly signal?: AbortSignal;
}

/** A Queue whose `native()` is typed as the SQS client. */
export class SqsQueue<T = unknown> extends Queue<T, SQSClient> {
  /** The queue URL the driver sends to. */
  readonly queueUrl: string;
  constructor(driver: SqsQueueDriver, opts?: QueueOptions<T>) {
    super(driver, opts);
    this.queueUrl = driver.queueUrl;
  }
}

/**
 * Builds an SQS client: endpoint from the option or AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL.
 *
 * @example
 * const client = createSqsClient({ region: 'eu-west-1' });
 * const jobs = await sqsQueue({ queueName: 'jobs', client }); // close() leaves the client open
 */
export function createSqsClient(
  opts: AwsConnectionOptions & { clientConfig?: SQSClientConfig | undefined } = {},
): SQSClient {
  const endpoint = checkedEndpoint(opts, 'SQS', 'queue');
  const region = resolveRegion(opts.region, endpoint);
  return new SQSClient({
    ...SDK_RETRIES_OFF,
    // Connect and idle-read bounds, so a dead endpoint frees its socket (and lets the process
    // exit) even where a request is not aborted; core's attempt timeout ends the call first.
    requestHandler: HTTP_TIMEOUTS,
    ...opts.clientConfig,
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
  });
}

/**
 * The driver behind `sqsQueue`: resolves the URL and reads the queue's attributes.
 *
 * @example
 * const raw = new Queue(await sqsQueueDriver({ queueName: 'jobs' }), { codec: bytesCodec });
 */
export async function sqsQueueDriver(
  opts: Omit<SqsQueueOptions, keyof QueueOptions<unknown>>,
): Promise<SqsQueueDriver> {
  const name =
    opts.queueName ??
    (opts.queueUrl ? decodeURIComponent(opts.queueUrl.replace(/\/+$/, '').split('/').pop() ?? '') : '');
  if (name === '') {
    throw invalidArgument('sqsQueue: queueName or queueUrl is required', {
      service: 'queue',
      operation: 'open',
    });
  }
  const client =
    opts.client ??
    createSqsClient({
      region: opts.region,
      endpoint: opts.endpoint,
      allowInsecureHttp: opts.allowInsecureHttp,
      clientConfig: opts.clientConfig,
    });
  const owns = opts.client === undefined;
  try {
    let queueUrl = opts.queueUrl;
    if (queueUrl === undefined) {
      try {
        const out = await client.send(
          new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: opts.queueOwnerAccountId }),
          { abortSignal: opts.signal },
        );
        queueUrl = out.QueueUrl;
      } catch (err) {
        throw mapAwsError(err, { service: 'queue', operation: 'open', name });
      }
      if (!queueUrl)
        throw invalidArgument(`GetQueueUrl returned no URL for queue "${name}"`, { service: 'queue' });
    }
    const info = await describeQueue(client, queueUrl, name, opts.signal);
    return new SqsQueueDriver({ client, info, ownsClient: owns });
  } catch (err) {
    if (owns) client.destroy();
    throw err;
  }
}

/**
 * Opens an SQS queue as a portable Queue. Capabilities come from the queue's attributes at
 * open (FIFO, RedrivePolicy → nativeDeadLetter, MaximumMessageSize → maxMessageBytes).
 *
 * @example
 * const jobs = await sqsQueue<Job>({ queueName: 'jobs', region: 'eu-west-1' });
 * const ordered = await sqsQueue({ queueName: 'orders.fifo', client });
 * await ordered.send(order, { groupId: order.customerId });
 */
export async function sqsQueue<T = unknown>(opts: SqsQueueOptions<T>): Promise<SqsQueue<T>> {
  const driver = await sqsQueueDriver(opts);
  const { retry, timeoutMs, codec, claimCheck } = opts;
  return new SqsQueue<T>(driver, {
    ...(retry !== undefined ? { retry } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(codec !== undefined ? { codec } : {}),
    ...(claimCheck !== undefined ? { claimCheck } : {}),
  });
}

/**
 * URL opener used by `openQueue('sqs://queue-name?region=&endpoint=')`.
 * `driverOptions` may carry `{ client }` (an SQSClient) or `{ clientConfig }`.
 */
export async function openQueueDriver(url: URL, opts: DriverOpenOptions = {}): Promise<QueueDriver> {
  const q = urlParams(url, ['region', 'endpoint', 'allowInsecureHttp'], 'queue');
  const queueName = urlResourceName(url, 'queue-name', 'queue');
  checkEndpoint(q.endpoint, 'queue');
  const d = driverOptionsOf<SQSClient, SQSClientConfig>(
    opts,
    (x): x is SQSClient => x instanceof SQSClient,
    'queue',
  );
  return sqsQueueDriver({
    queueName,
    ...(d.client !== undefined ? { client: d.client } : {}),
    ...(d.clientConfig !== undefined ? { clientConfig: d.clientConfig } : {}),
    region: q.region,
    endpoint: q.endpoint,
    allowInsecureHttp: urlBool(q.allowInsecureHttp, 'allowInsecureHttp', 'queue') ?? d.allowInsecureHttp,
    // Aborted by core when opening runs past its bound, so the lookup does not linger.
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  });
}
