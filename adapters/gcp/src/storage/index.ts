/**
 * Cloud Storage for polycloud: `gs://bucket` URLs, `gcsBucket({ bucket })`, and the driver.
 *
 * @example
 * import { gcsBucket } from '@polycloud/gcp/storage';
 * await using bucket = gcsBucket({ bucket: 'uploads' });
 * await bucket.put('hello.txt', 'hi', { contentType: 'text/plain' });
 */
import type { Storage } from '@google-cloud/storage';
import { Bucket, type BucketOptions } from '@polycloud/core/blob';
import {
  type BucketDriver,
  type DriverOpenOptions,
  invalidArgument,
  urlParams,
} from '@polycloud/core/driver';
import { allowInsecure } from '../endpoint.js';
import { GcsBucketDriver, type GcsDriverOptions, storageClient } from './driver.js';

export { GCS_CAPABILITIES, GcsBucketDriver, type GcsDriverOptions } from './driver.js';

/** Options for `gcsBucket`: where the bucket is, how to reach it, and the portable options. */
export interface GcsBucketOptions extends GcsDriverOptions, BucketOptions {}

/** A Bucket whose `native()` is the Cloud Storage client. */
export type GcsBucket = Bucket<Storage>;

/**
 * Opens a Cloud Storage bucket as a portable Bucket. Pass `client` to reuse a configured
 * `Storage`; otherwise one is made from `projectId`, `apiEndpoint` and `credentials`
 * (or the defaults: application default credentials, STORAGE_EMULATOR_HOST).
 *
 * @example
 * const bucket = gcsBucket({ bucket: 'uploads', client: new Storage({ projectId: 'p' }) });
 */
export function gcsBucket(opts: GcsBucketOptions): GcsBucket {
  const driver = new GcsBucketDriver(opts);
  return new Bucket<Storage>(driver, opts);
}

/**
 * URL opener used by core's `openBucket('gs://bucket?projectId=&endpoint=')`.
 * `driverOptions` may carry `client` (a Storage), `credentials`, `apiEndpoint`, `projectId`.
 */
export async function openBucketDriver(url: URL, opts: DriverOpenOptions): Promise<BucketDriver> {
  const params = urlParams(url, ['projectId', 'endpoint', 'allowInsecureHttp'], 'blob');
  const bucket = decodeURIComponent(url.hostname);
  if (!bucket)
    throw invalidArgument(`gs:// URL ${url.href} names no bucket; use gs://bucket-name`, {
      service: 'blob',
      operation: 'open',
    });
  if (url.pathname !== '' && url.pathname !== '/') {
    throw invalidArgument(
      `gs:// URL ${url.href} has a path; a bucket URL is gs://bucket-name (keys go in calls, not the URL)`,
      {
        service: 'blob',
        operation: 'open',
      },
    );
  }
  const d = opts.driverOptions ?? {};
  const client = d.client;
  if (client !== undefined && !isStorage(client)) {
    throw invalidArgument('driverOptions.client must be a @google-cloud/storage Storage', {
      service: 'blob',
      operation: 'open',
    });
  }
  return new GcsBucketDriver({
    bucket,
    ...(client !== undefined ? { client } : {}),
    ...((str(d.projectId) ?? params.projectId) ? { projectId: (str(d.projectId) ?? params.projectId)! } : {}),
    ...((str(d.apiEndpoint) ?? params.endpoint)
      ? { apiEndpoint: (str(d.apiEndpoint) ?? params.endpoint)! }
      : {}),
    ...(isCredentials(d.credentials) ? { credentials: d.credentials } : {}),
    ...allowInsecure(params.allowInsecureHttp, d.allowInsecureHttp, 'blob'),
  });
}

/** Builds the Storage client `gcsBucket` would make from these options. */
export { storageClient };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function isStorage(v: unknown): v is Storage {
  return typeof v === 'object' && v !== null && typeof (v as Storage).bucket === 'function';
}

function isCredentials(v: unknown): v is { client_email: string; private_key: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { client_email?: unknown }).client_email === 'string' &&
    typeof (v as { private_key?: unknown }).private_key === 'string'
  );
}
