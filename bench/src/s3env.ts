/**
 * The S3 endpoint the benchmarks talk to: moto started through the emulator harness's supervisor
 * (bound to 127.0.0.1, stopped at the end), or whatever AWS_ENDPOINT_URL names (then nothing is
 * started; the supervisor's environment source checks that something answers there).
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '@polycloud/aws/s3';
import { startEmulator } from '../../conformance/src/emulators/supervisor.js';

/** What a child process needs to build the same client. */
export interface S3Target {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** e.g. "moto 5.2.5 (process on 127.0.0.1:40123)". */
  readonly description: string;
  readonly source: string;
}

export interface S3Env {
  readonly target: S3Target;
  stop(): Promise<void>;
}

/** Brings up moto (or checks AWS_ENDPOINT_URL); throws with the harness's reason when it cannot. */
export async function startS3(): Promise<S3Env> {
  const logDir = path.join(os.tmpdir(), 'polycloud-bench');
  mkdirSync(logDir, { recursive: true });
  const handle = await startEmulator('moto', { logDir, logName: 'moto-bench', docker: false });
  const { status } = handle;
  if (status.state !== 'ready' || !status.endpoint) {
    await handle.stop();
    throw new Error(`moto is not available (${status.state}): ${status.reason ?? 'no endpoint'}`);
  }
  const env = status.endpoint.env;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    await handle.stop();
    throw new Error('the moto endpoint has no AWS_ENDPOINT_URL');
  }
  return {
    target: {
      endpoint,
      region: env.AWS_REGION ?? 'us-east-1',
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
      description: status.endpoint.description,
      source: status.endpoint.source,
    },
    stop: () => handle.stop(),
  };
}

/**
 * One S3 client, built the way the adapter builds its own for a custom endpoint (path style,
 * WHEN_REQUIRED checksums). The raw side and the polycloud side use this very instance.
 * `socketTimeoutMs` replaces the adapter's 30 s idle bound: moto answers CompleteMultipartUpload
 * of 1 GiB only after assembling it in Python, which on a loaded machine takes longer.
 */
export function clientFor(t: S3Target, opts: { socketTimeoutMs?: number } = {}): S3Client {
  return createS3Client({
    endpoint: t.endpoint,
    region: t.region,
    clientConfig: {
      credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
      ...(opts.socketTimeoutMs === undefined
        ? {}
        : { requestHandler: { connectionTimeout: 10_000, socketTimeout: opts.socketTimeoutMs } }),
    },
  });
}

export async function createBenchBucket(client: S3Client): Promise<string> {
  const name = `polycloud-bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Best effort: matters only for an endpoint from AWS_ENDPOINT_URL (a started moto just stops). */
export async function removeBenchBucket(client: S3Client, bucket: string, keys: readonly string[]) {
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      await client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
        }),
      );
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // leave it: the emulator's state is thrown away with it
  }
}
