import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { gcsBucket } from '@polycloud/gcp/storage';
import { afterEach, describe, expect, it } from 'vitest';

// The Google SDKs reach a custom Pub/Sub or Bigtable endpoint without TLS (their emulator mode),
// and Cloud Storage over whatever scheme the endpoint names: a host off this machine is refused
// before any I/O unless allowed. Allowed opens here do no I/O either (Bigtable and Cloud Storage
// open lazily; Pub/Sub gets its subscription configuration instead of reading it).
const refused = (host: string, source?: string) => (e: unknown) =>
  isPolycloudError(e, 'INVALID_ARGUMENT') &&
  e.message.includes(host) &&
  e.message.includes('allowInsecureHttp') &&
  (source === undefined || e.message.includes(source));
const subscriptionConfig = { deadLetter: false, messageOrdering: false, ackDeadlineSeconds: 10 };
const PUBSUB = 'gcppubsub://projects/p/topics/t?subscription=s';
const BIGTABLE = 'bigtable://projects/p/instances/i/tables/t';

describe('Google Cloud: a plain-text endpoint off this machine is refused unless allowed', () => {
  afterEach(() => {
    for (const v of ['STORAGE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST', 'BIGTABLE_EMULATOR_HOST'])
      delete process.env[v];
  });

  it('by URL and option', async () => {
    await expect(openBucket('gs://b?endpoint=http%3A%2F%2Fgcs.internal%3A4443')).rejects.toSatisfy(
      refused('http://gcs.internal:4443', 'the endpoint option'),
    );
    expect(() => gcsBucket({ bucket: 'b', apiEndpoint: 'http://10.0.0.9:4443' })).toThrow(
      /allowInsecureHttp/,
    );
    await expect(
      openQueue(PUBSUB, { driverOptions: { apiEndpoint: 'pubsub.internal:8085', subscriptionConfig } }),
    ).rejects.toSatisfy(refused('pubsub.internal:8085'));
    await expect(openKv(BIGTABLE, { driverOptions: { apiEndpoint: '10.0.0.9:8086' } })).rejects.toSatisfy(
      refused('10.0.0.9:8086'),
    );
  });

  it('from the emulator variables the SDKs honour', async () => {
    process.env.STORAGE_EMULATOR_HOST = 'http://gcs.internal:4443';
    process.env.PUBSUB_EMULATOR_HOST = 'pubsub.internal:8085';
    process.env.BIGTABLE_EMULATOR_HOST = 'bigtable.internal:8086';
    await expect(openBucket('gs://b')).rejects.toSatisfy(
      refused('gcs.internal:4443', 'STORAGE_EMULATOR_HOST'),
    );
    await expect(openQueue(PUBSUB, { driverOptions: { subscriptionConfig } })).rejects.toSatisfy(
      refused('pubsub.internal:8085', 'PUBSUB_EMULATOR_HOST'),
    );
    await expect(openKv(BIGTABLE)).rejects.toSatisfy(
      refused('bigtable.internal:8086', 'BIGTABLE_EMULATOR_HOST'),
    );
  });

  it('allowInsecureHttp (URL parameter or driverOptions), https and loopback open', async () => {
    const opened = [
      await openBucket('gs://b?endpoint=http%3A%2F%2Fgcs.internal%3A4443&allowInsecureHttp=true'),
      await openBucket('gs://b?endpoint=https%3A%2F%2Fgcs.internal%3A4443'),
      await openBucket('gs://b?endpoint=http%3A%2F%2F127.0.0.1%3A4443'),
      await openQueue(`${PUBSUB}&allowInsecureHttp=true`, {
        driverOptions: { apiEndpoint: 'pubsub.internal:8085', subscriptionConfig },
      }),
      await openQueue(PUBSUB, { driverOptions: { apiEndpoint: 'localhost:8085', subscriptionConfig } }),
      await openKv(BIGTABLE, { driverOptions: { apiEndpoint: '10.0.0.9:8086', allowInsecureHttp: true } }),
      await openKv(`${BIGTABLE}?allowInsecureHttp=true`, { driverOptions: { apiEndpoint: '10.0.0.9:8086' } }),
    ];
    for (const o of opened) await o.close();
  });
});
