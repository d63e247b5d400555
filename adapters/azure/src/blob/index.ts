/**
 * Azure Blob Storage for polycloud.
 *
 * @example
 * import { azureBucket } from '@polycloud/azure/blob';
 * const bucket = azureBucket({ container: 'uploads', account: 'myaccount' }); // DefaultAzureCredential
 * await bucket.put('hello.txt', 'hi');
 *
 * @example
 * import { openBucket } from '@polycloud/core';
 * const bucket = await openBucket('azblob://uploads?account=myaccount');
 */
import {
  BlobServiceClient,
  ContainerClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { Bucket, type BucketOptions } from '@polycloud/core/blob';
import { type DriverOpenOptions, invalidArgument, urlParams } from '@polycloud/core/driver';
import { joinEndpoint, resourceFromUrl, USER_AGENT_PREFIX } from '../clients.js';
import {
  type AzureCredentialOptions,
  type AzureTokenCredential,
  credentialOptionsFrom,
  insecureParam,
  resolveCredentials,
} from '../credentials.js';
import { PROVIDER } from '../errors.js';
import { AzureBucketDriver, signerFor } from './driver.js';

export type { AzureCredentialOptions, AzureTokenCredential } from '../credentials.js';
export { AzureBucketDriver, type BlobSigner } from './driver.js';
export {
  decodeMetadata,
  decodeMetadataName,
  decodeMetadataValue,
  encodeMetadata,
  encodeMetadataName,
  encodeMetadataValue,
} from './metadata.js';
export { decodeBlobName, encodeBlobName } from './names.js';

/** A Bucket whose `native()` is typed as the container client. */
export type AzureBucket = Bucket<ContainerClient>;

export interface AzureBucketOptions extends AzureCredentialOptions, BucketOptions {
  /** Container name. Ignored when `client` is given. */
  readonly container?: string;
  /** An already-configured container client; polycloud uses it as it is. */
  readonly client?: ContainerClient;
  /**
   * Options for the clients polycloud builds. By default the SDK's own retries are off
   * (`retryOptions: { maxTries: 1 }`) because the portable layer retries.
   */
  readonly clientOptions?: StoragePipelineOptions;
}

/** Duck-typed, so a client from another copy of @azure/storage-blob is accepted too. */
function isContainerClient(x: unknown): x is ContainerClient {
  if (x instanceof ContainerClient) return true;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ContainerClient).getBlockBlobClient === 'function' &&
    typeof (x as ContainerClient).containerName === 'string'
  );
}

function pipelineOptions(extra: StoragePipelineOptions | undefined): StoragePipelineOptions {
  return {
    retryOptions: { maxTries: 1 },
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
    ...extra,
  };
}

/**
 * Builds (or adopts) the container client and the driver.
 *
 * @example
 * const bucket = new Bucket(azureBucketDriver({ container: 'uploads', account: 'myaccount' }), { timeoutMs: 10_000 });
 */
export function azureBucketDriver(opts: AzureBucketOptions): AzureBucketDriver {
  if (opts.client) {
    if (!isContainerClient(opts.client)) {
      throw invalidArgument('azureBucket: client must be a ContainerClient from @azure/storage-blob', {
        provider: PROVIDER,
        service: 'blob',
        operation: 'open',
      });
    }
    return new AzureBucketDriver(opts.client, signerFor(opts.client, opts.credential));
  }
  const container = opts.container;
  if (container === undefined || container === '') {
    throw invalidArgument('azureBucket: pass container (or client)', {
      provider: PROVIDER,
      service: 'blob',
      operation: 'open',
    });
  }
  const creds = resolveCredentials(opts, 'blob', 'blob');
  const po = pipelineOptions(opts.clientOptions);
  let client: ContainerClient;
  let token: AzureTokenCredential | undefined;
  switch (creds.kind) {
    case 'connectionString':
      client = BlobServiceClient.fromConnectionString(creds.connectionString, po).getContainerClient(
        container,
      );
      break;
    case 'sharedKey':
      client = new ContainerClient(
        joinEndpoint(creds.endpoint, container),
        new StorageSharedKeyCredential(creds.account, creds.accountKey),
        po,
      );
      break;
    case 'token':
      token = creds.credential;
      client = new ContainerClient(joinEndpoint(creds.endpoint, container), creds.credential, po);
      break;
  }
  return new AzureBucketDriver(client, signerFor(client, token));
}

/**
 * A Bucket on one Azure Blob Storage container.
 *
 * @example
 * const bucket = azureBucket({ container: 'uploads', connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING });
 * const client = bucket.native(); // ContainerClient
 */
export function azureBucket(opts: AzureBucketOptions): AzureBucket {
  return new Bucket<ContainerClient>(azureBucketDriver(opts), opts);
}

/**
 * URL opener used by `openBucket('azblob://container?account=…&endpoint=…')`.
 * `driverOptions` may carry `client`, `connectionString`, `accountKey`, `credential`.
 */
export async function openBucketDriver(url: URL, opts: DriverOpenOptions): Promise<AzureBucketDriver> {
  const container = resourceFromUrl(url, 'blob', 'container');
  const q = urlParams(url, ['account', 'endpoint', 'allowInsecureHttp'], 'blob');
  const d = opts.driverOptions ?? {};
  const cred: AzureCredentialOptions = {
    ...credentialOptionsFrom(d),
    ...(q.account === undefined ? {} : { account: q.account }),
    ...(q.endpoint === undefined ? {} : { endpoint: q.endpoint }),
    ...insecureParam(q.allowInsecureHttp, 'blob'),
  };
  const client = isContainerClient(d.client) ? d.client : undefined;
  return azureBucketDriver({ ...cred, container, ...(client ? { client } : {}) });
}

/** What a caller must send to upload through a SAS URL (a `SignedRequest` without the method). */
export interface SignedUpload {
  readonly url: string;
  /** Headers the PUT must carry: `x-ms-blob-type: BlockBlob`, and Content-Type when one was asked for. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A SAS URL that lets anyone holding it upload `key` for `expiresIn` seconds, with the headers
 * the request must send (Azure's Put Blob needs `x-ms-blob-type: BlockBlob`). The same as
 * `bucket.signedRequest(key, { method: 'PUT', expiresIn, contentType })`, which works on every
 * provider; kept for code written before that existed.
 *
 * @deprecated Use `bucket.signedRequest(key, { method: 'PUT', expiresIn, contentType })`.
 *
 * @example
 * const { url, headers } = await signedUploadUrl(bucket, 'photo.jpg', { expiresIn: 600, contentType: 'image/jpeg' });
 * await fetch(url, { method: 'PUT', headers, body });
 */
export async function signedUploadUrl(
  bucket: Bucket,
  key: string,
  opts: { expiresIn: number; contentType?: string },
): Promise<SignedUpload> {
  if (!isContainerClient(bucket.native())) {
    throw invalidArgument('signedUploadUrl: the bucket is not an Azure Blob Storage bucket', {
      provider: PROVIDER,
      service: 'blob',
      operation: 'signedUploadUrl',
    });
  }
  const { url, headers } = await bucket.signedRequest(key, {
    method: 'PUT',
    expiresIn: opts.expiresIn,
    ...(opts.contentType === undefined ? {} : { contentType: opts.contentType }),
  });
  return { url, headers };
}
