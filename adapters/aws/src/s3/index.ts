import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Bucket, type BucketOptions } from '@polycloud/core/blob';
import {
  type BucketDriver,
  type DriverOpenOptions,
  invalidArgument,
  urlBool,
  urlParams,
} from '@polycloud/core/driver';
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
import { S3BucketDriver } from './driver.js';

export type { AwsConnectionOptions } from '../config.js';
export { S3_CAPABILITIES, S3BucketDriver, type S3DriverConfig } from './driver.js';
export { decodeMetadataValue, encodeMetadataValue } from './metadata.js';

/** Options for an S3 (or S3-compatible) bucket. */
export interface S3BucketOptions extends AwsConnectionOptions, BucketOptions {
  readonly bucket: string;
  /** An already-configured client; region/endpoint/clientConfig are then ignored and close() leaves it open. */
  readonly client?: S3Client;
  /** Extra client settings (credentials, retry strategy, request handler, ...). */
  readonly clientConfig?: S3ClientConfig;
  /** Path-style requests (`endpoint/bucket/key`); default true with a custom endpoint, else false. */
  readonly forcePathStyle?: boolean;
  /** Copies above this size use UploadPartCopy (default and maximum 5 GiB, S3's CopyObject limit). */
  readonly multipartCopyThresholdBytes?: number;
  /** Part size for multipart copies (default 512 MiB). */
  readonly multipartCopyPartBytes?: number;
}

/** A Bucket whose `native()` is typed as the S3 client. */
export type S3Bucket = Bucket<S3Client>;

/**
 * Builds an S3 client the way polycloud does: the endpoint from the option or the standard
 * variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), path style and WHEN_REQUIRED checksums
 * for custom endpoints (S3-compatible servers often reject the SDK's default CRC32 headers).
 *
 * @example
 * const client = createS3Client({ endpoint: 'http://127.0.0.1:9000' }); // MinIO: path style
 * const bucket = s3Bucket({ bucket: 'uploads', client }); // close() leaves the client open
 */
export function createS3Client(
  opts: AwsConnectionOptions & {
    forcePathStyle?: boolean | undefined;
    clientConfig?: S3ClientConfig | undefined;
  } = {},
): S3Client {
  const endpoint = checkedEndpoint(opts, 'S3', 'blob');
  const region = resolveRegion(opts.region, endpoint);
  const custom = endpoint !== undefined;
  // S3-compatible servers often reject the SDK's default CRC32 headers; the standard variables
  // (AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION) still win when set.
  const config: S3ClientConfig = {
    ...SDK_RETRIES_OFF,
    // Connect and idle-read bounds, so a dead endpoint frees its socket (and lets the process
    // exit) even where a request is not aborted; core's attempt timeout ends the call first.
    requestHandler: HTTP_TIMEOUTS,
    ...(custom && !process.env.AWS_REQUEST_CHECKSUM_CALCULATION
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' }
      : {}),
    ...(custom && !process.env.AWS_RESPONSE_CHECKSUM_VALIDATION
      ? { responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    ...opts.clientConfig,
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
  };
  const pathStyle = opts.forcePathStyle ?? opts.clientConfig?.forcePathStyle ?? (custom ? true : undefined);
  if (pathStyle !== undefined) config.forcePathStyle = pathStyle;
  return new S3Client(config);
}

/**
 * The driver behind `s3Bucket`, for code that composes drivers itself.
 *
 * @example
 * const bucket = new Bucket(s3BucketDriver({ bucket: 'uploads' }), { timeoutMs: 10_000 });
 */
export function s3BucketDriver(opts: Omit<S3BucketOptions, keyof BucketOptions>): S3BucketDriver {
  if (typeof opts.bucket !== 'string' || opts.bucket === '') {
    throw invalidArgument('s3Bucket: bucket (the bucket name) is required', {
      service: 'blob',
      operation: 'open',
    });
  }
  const client =
    opts.client ??
    createS3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      allowInsecureHttp: opts.allowInsecureHttp,
      forcePathStyle: opts.forcePathStyle,
      clientConfig: opts.clientConfig,
    });
  return new S3BucketDriver({
    client,
    bucket: opts.bucket,
    ownsClient: opts.client === undefined,
    multipartCopyThresholdBytes: opts.multipartCopyThresholdBytes,
    multipartCopyPartBytes: opts.multipartCopyPartBytes,
  });
}

/**
 * An S3 bucket as a portable Bucket.
 *
 * @example
 * const bucket = s3Bucket({ bucket: 'uploads', region: 'eu-west-1' });
 * const same = s3Bucket({ bucket: 'uploads', client: myS3Client });
 * await bucket.put('a.txt', 'hello', { ifNoneMatch: '*' });
 */
export function s3Bucket(opts: S3BucketOptions): S3Bucket {
  const { retry, timeoutMs, partSize, concurrency } = opts;
  return new Bucket<S3Client>(s3BucketDriver(opts), {
    ...(retry !== undefined ? { retry } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(partSize !== undefined ? { partSize } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
}

/**
 * URL opener used by `openBucket('s3://bucket?region=&endpoint=&forcePathStyle=')`.
 * `driverOptions` may carry `{ client }` (an S3Client) or `{ clientConfig }`.
 */
export async function openBucketDriver(url: URL, opts: DriverOpenOptions = {}): Promise<BucketDriver> {
  const q = urlParams(url, ['region', 'endpoint', 'allowInsecureHttp', 'forcePathStyle'], 'blob');
  const bucket = urlResourceName(url, 'bucket', 'blob');
  checkEndpoint(q.endpoint, 'blob');
  const d = driverOptionsOf<S3Client, S3ClientConfig>(
    opts,
    (x): x is S3Client => x instanceof S3Client,
    'blob',
  );
  return s3BucketDriver({
    bucket,
    ...(d.client !== undefined ? { client: d.client } : {}),
    ...(d.clientConfig !== undefined ? { clientConfig: d.clientConfig } : {}),
    region: q.region,
    endpoint: q.endpoint,
    allowInsecureHttp: urlBool(q.allowInsecureHttp, 'allowInsecureHttp', 'blob') ?? d.allowInsecureHttp,
    ...(q.forcePathStyle !== undefined
      ? { forcePathStyle: urlBool(q.forcePathStyle, 'forcePathStyle', 'blob') }
      : {}),
  });
}
