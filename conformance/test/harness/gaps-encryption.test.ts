// Reproductions of the encryption-at-rest gaps in EMULATOR_GAPS with raw SDK calls: each test
// asserts the emulator still differs from the service and fails (saying to remove the entry)
// once an upgrade fixes it.
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { Storage } from '@google-cloud/storage';
import { describe, expect, it, vi } from 'vitest';
import { emulatorForBlock, uniqueName } from './smoke-helpers.js';

const stillThere = (id: string) =>
  `gap ${id} no longer reproduces with the pinned emulator: remove it from EMULATOR_GAPS and docs/emulators.md`;

describe('encryption gaps reproduce', () => {
  const moto = emulatorForBlock('moto');
  const gcs = emulatorForBlock('fake-gcs-server');
  const azurite = emulatorForBlock('azurite');

  it('moto-s3-sse-c-ignored', async (ctx) => {
    const { env } = moto.endpoint(ctx);
    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    try {
      const Bucket = uniqueName('gap-');
      await s3.send(new CreateBucketCommand({ Bucket }));
      const key = randomBytes(32);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'k',
          Body: 'secret',
          SSECustomerAlgorithm: 'AES256',
          SSECustomerKey: key.toString('base64'),
          SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
        }),
      );
      expect(put.SSECustomerKeyMD5, stillThere('moto-s3-sse-c-ignored')).toBeUndefined();
      // S3: 400 InvalidRequest without the key.
      const read = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
      expect(await read.Body?.transformToString(), stillThere('moto-s3-sse-c-ignored')).toBe('secret');
    } finally {
      s3.destroy();
    }
  });

  it('fake-gcs-encryption-ignored', async (ctx) => {
    const { env } = gcs.endpoint(ctx);
    vi.stubEnv('STORAGE_EMULATOR_HOST', undefined); // see smoke-gcp.test.ts
    const storage = new Storage({ apiEndpoint: env.STORAGE_EMULATOR_HOST!, projectId: 'polycloud-test' });
    const [bucket] = await storage.createBucket(uniqueName('gap-'));
    await bucket.file('c', { encryptionKey: randomBytes(32) }).save('secret', { resumable: false });
    const [plain] = await bucket.file('c').download();
    expect(plain.toString(), stillThere('fake-gcs-encryption-ignored')).toBe('secret');
    const [md] = await bucket.file('c').getMetadata();
    expect(md.customerEncryption, stillThere('fake-gcs-encryption-ignored')).toBeUndefined();
    const kmsKeyName = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';
    await bucket.file('m', { kmsKeyName }).save('managed', { resumable: false });
    const [mm] = await bucket.file('m').getMetadata();
    expect(mm.kmsKeyName, stillThere('fake-gcs-encryption-ignored')).toBeUndefined();
  });

  it('azurite-encryption-scope-not-reported', async (ctx) => {
    const cs = azurite.endpoint(ctx).env.AZURE_STORAGE_CONNECTION_STRING!;
    const container = BlobServiceClient.fromConnectionString(cs).getContainerClient(uniqueName('gap'));
    await container.create();
    const blob = container.getBlockBlobClient('s');
    const up = await blob.upload('x', 1, { encryptionScope: 'polycloud-scope' });
    expect(up.encryptionScope, stillThere('azurite-encryption-scope-not-reported')).toBeUndefined();
    const p = await blob.getProperties();
    expect(p.encryptionScope, stillThere('azurite-encryption-scope-not-reported')).toBeUndefined();
  });
});
