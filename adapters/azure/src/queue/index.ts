/**
 * Azure Queue Storage for polycloud.
 *
 * @example
 * import { azureQueue } from '@polycloud/azure/queue';
 * const jobs = azureQueue<{ id: string }>({ queue: 'jobs', account: 'myaccount' });
 * await jobs.send({ id: '1' });
 *
 * @example
 * import { openQueue } from '@polycloud/core';
 * const jobs = await openQueue('azqueue://jobs?account=myaccount');
 */
import {
  QueueClient,
  QueueServiceClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-queue';
import { type DriverOpenOptions, invalidArgument, urlParams } from '@polycloud/core/driver/base';
import { Queue, type QueueOptions } from '@polycloud/core/queue';
import { joinEndpoint, resourceFromUrl, USER_AGENT_PREFIX } from '../clients.js';
import {
  type AzureCredentialOptions,
  credentialOptionsFrom,
  insecureParam,
  resolveCredentials,
} from '../credentials.js';
import { PROVIDER } from '../errors.js';
import { AzureQueueDriver, type AzureQueueDriverOptions } from './driver.js';

export type { AzureCredentialOptions, AzureTokenCredential } from '../credentials.js';
export {
  AZURE_QUEUE_CAPABILITIES,
  AzureQueueDriver,
  type AzureQueueDriverOptions,
  type AzureReceipt,
  MAX_MESSAGE_BYTES,
} from './driver.js';
export { decodeEnvelope, decodeEnvelopeBytes, encodeEnvelope, encodeEnvelopeBytes } from './envelope.js';

/** A Queue whose `native()` is typed as the queue client. */
export type AzureQueue<T = unknown> = Queue<T, QueueClient>;

export interface AzureQueueOptions<T>
  extends AzureCredentialOptions,
    AzureQueueDriverOptions,
    QueueOptions<T> {
  /** Queue name. Ignored when `client` is given. */
  readonly queue?: string;
  /** An already-configured queue client; polycloud uses it as it is. */
  readonly client?: QueueClient;
  /** Options for clients polycloud builds (the SDK's own retries are off by default: the portable layer retries). */
  readonly clientOptions?: StoragePipelineOptions;
}

function isQueueClient(x: unknown): x is QueueClient {
  if (x instanceof QueueClient) return true;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as QueueClient).receiveMessages === 'function' &&
    typeof (x as QueueClient).name === 'string'
  );
}

/**
 * Builds (or adopts) the queue client and the driver.
 *
 * @example
 * const raw = new Queue(azureQueueDriver({ queue: 'jobs', account: 'myaccount' }), { codec: bytesCodec });
 */
export function azureQueueDriver(opts: AzureQueueOptions<unknown>): AzureQueueDriver {
  const driverOpts: AzureQueueDriverOptions = {
    ...(opts.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds }),
    ...(opts.messageTimeToLiveSeconds === undefined
      ? {}
      : { messageTimeToLiveSeconds: opts.messageTimeToLiveSeconds }),
  };
  if (opts.client) {
    if (!isQueueClient(opts.client)) {
      throw invalidArgument('azureQueue: client must be a QueueClient from @azure/storage-queue', {
        provider: PROVIDER,
        service: 'queue',
        operation: 'open',
      });
    }
    return new AzureQueueDriver(opts.client, driverOpts);
  }
  const name = opts.queue;
  if (name === undefined || name === '') {
    throw invalidArgument('azureQueue: pass queue (or client)', {
      provider: PROVIDER,
      service: 'queue',
      operation: 'open',
    });
  }
  const creds = resolveCredentials(opts, 'queue', 'queue');
  const po: StoragePipelineOptions = {
    retryOptions: { maxTries: 1 },
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
    ...opts.clientOptions,
  };
  let client: QueueClient;
  switch (creds.kind) {
    case 'connectionString':
      client = QueueServiceClient.fromConnectionString(creds.connectionString, po).getQueueClient(name);
      break;
    case 'sharedKey':
      client = new QueueClient(
        joinEndpoint(creds.endpoint, name),
        new StorageSharedKeyCredential(creds.account, creds.accountKey),
        po,
      );
      break;
    case 'token':
      client = new QueueClient(joinEndpoint(creds.endpoint, name), creds.credential, po);
      break;
  }
  return new AzureQueueDriver(client, driverOpts);
}

/**
 * A Queue on one Azure Storage queue.
 *
 * @example
 * const q = azureQueue({ queue: 'jobs', connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING });
 * const client = q.native(); // QueueClient
 */
export function azureQueue<T = unknown>(opts: AzureQueueOptions<T>): AzureQueue<T> {
  return new Queue<T, QueueClient>(azureQueueDriver(opts as AzureQueueOptions<unknown>), opts);
}

/**
 * URL opener used by `openQueue('azqueue://queue?account=…&endpoint=…&visibilityTimeout=…')`.
 * `driverOptions` may carry `client`, `connectionString`, `accountKey`, `credential`.
 */
export async function openQueueDriver(url: URL, opts: DriverOpenOptions): Promise<AzureQueueDriver> {
  const queue = resourceFromUrl(url, 'queue', 'queue');
  const q = urlParams(
    url,
    ['account', 'endpoint', 'allowInsecureHttp', 'visibilityTimeout', 'messageTtl'],
    'queue',
  );
  const d = opts.driverOptions ?? {};
  const int = (v: string | undefined, name: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > 7 * 24 * 3600) {
      throw invalidArgument(
        `URL parameter ${name} must be an integer number of seconds (${min} to 604800), got "${v}"`,
        {
          provider: PROVIDER,
          service: 'queue',
          operation: 'open',
        },
      );
    }
    return n;
  };
  const visibilityTimeoutSeconds = int(q.visibilityTimeout, 'visibilityTimeout', 1);
  const messageTimeToLiveSeconds = q.messageTtl === '-1' ? -1 : int(q.messageTtl, 'messageTtl', 1);
  return azureQueueDriver({
    ...credentialOptionsFrom(d),
    ...(q.account === undefined ? {} : { account: q.account }),
    ...(q.endpoint === undefined ? {} : { endpoint: q.endpoint }),
    ...insecureParam(q.allowInsecureHttp, 'queue'),
    ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
    ...(messageTimeToLiveSeconds === undefined ? {} : { messageTimeToLiveSeconds }),
    queue,
    ...(isQueueClient(d.client) ? { client: d.client } : {}),
  });
}
