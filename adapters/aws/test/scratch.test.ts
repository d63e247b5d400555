import { CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { it } from 'vitest';
import { createS3Client } from '@polycloud/aws/s3';
import { awsTarget } from './emulator.js';

it('explore', async () => {
  const { target } = awsTarget('moto', 'S3');
  const client = createS3Client({ endpoint: target!.endpoint, clientConfig: { credentials: target!.credentials } });
  const Bucket = `b${Date.now()}`;
  await client.send(new CreateBucketCommand({ Bucket }));
  const bad: number[] = [];
  for (const c of [...Array.from({ length: 32 }, (_, i) => i), 0x7f]) {
    const Key = `k${String.fromCharCode(c)}x`;
    try {
      await client.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
      const r = await client.send(new GetObjectCommand({ Bucket, Key }));
      await r.Body!.transformToString();
    } catch (e) { bad.push(c); console.log(c, (e as Error).name, (e as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode); }
  }
  console.log('failing codes', bad);
  const l = await client.send(new ListObjectsV2Command({ Bucket, EncodingType: 'url' }));
  console.log(l.Contents?.map((c) => c.Key).join(' '));
});
