import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '@polycloud/aws/s3';
import type { BucketHarness } from '@polycloud/conformance';
import { openBucket } from '@polycloud/core';
import { awsTarget, rand } from './emulator.js';

/** Empties and deletes a bucket with the native SDK (objects and unfinished uploads). */
async function destroyBucket(client: S3Client, Bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key!, UploadId: u.UploadId! }));
  }
  await client.send(new DeleteBucketCommand({ Bucket }));
}

/**
 * A bucket harness for one S3 emulator: every open() creates a fresh bucket with the native SDK
 * and opens it by URL.
 */
export function s3Harness(emulator: 'moto' | 'localstack', reportName?: string): BucketHarness {
  const { target, notRun } = awsTarget(emulator, 'S3');
  let admin: S3Client | undefined;
  return {
    adapter: 'aws',
    emulator,
    ...(reportName ? { reportName } : {}),
    notRun,
    async beforeAll() {
      if (!target) return;
      admin = createS3Client({
        endpoint: target.endpoint,
        region: target.region,
        clientConfig: { credentials: target.credentials },
      });
    },
    async afterAll() {
      admin?.destroy();
    },
    async open() {
      if (!target || !admin) throw new Error(`${emulator} is not available`);
      const client = admin;
      const name = `pc-${rand()}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      // Opened by URL, so URL parsing and the driver options path are exercised too.
      const url = `s3://${name}?endpoint=${encodeURIComponent(target.endpoint)}&region=${target.region}`;
      const bucket = await openBucket(url, {
        driverOptions: { clientConfig: { credentials: target.credentials } },
      });
      return {
        bucket,
        cleanup: async () => {
          await bucket.close();
          await destroyBucket(client, name);
        },
      };
    },
  };
}
