import { describe, expect, it } from 'vitest';
import { ENV_SOURCE_VARIABLES, endpointFromEnv } from '../../src/emulators/env-source.js';
import { EMULATOR_IDS } from '../../src/emulators/types.js';

describe('environment source (a)', () => {
  it('maps every documented variable to exactly one emulator', () => {
    const byVariable = new Map(ENV_SOURCE_VARIABLES.map((m) => [m.variable, m.emulator]));
    expect(Object.fromEntries(byVariable)).toEqual({
      AWS_ENDPOINT_URL: 'moto',
      AWS_ENDPOINT_URL_S3: 'moto',
      AWS_ENDPOINT_URL_SQS: 'elasticmq',
      AWS_ENDPOINT_URL_DYNAMODB: 'dynalite',
      POLYCLOUD_LOCALSTACK_ENDPOINT: 'localstack',
      STORAGE_EMULATOR_HOST: 'fake-gcs-server',
      PUBSUB_EMULATOR_HOST: 'pstest',
      BIGTABLE_EMULATOR_HOST: 'bigtable-emulator',
      AZURE_STORAGE_CONNECTION_STRING: 'azurite',
    });
    for (const id of EMULATOR_IDS) expect([...byVariable.values()]).toContain(id);
  });

  it('says nothing when no variable is set', () => {
    for (const id of EMULATOR_IDS) expect(endpointFromEnv(id, {})).toBeUndefined();
  });

  it('AWS_ENDPOINT_URL stands for moto, with region and dummy credentials filled in', () => {
    const r = endpointFromEnv('moto', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    expect(r?.kind).toBe('endpoint');
    if (r?.kind !== 'endpoint') return;
    expect(r.endpoint.source).toBe('env');
    expect(r.endpoint.env).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    // AWS_ENDPOINT_URL does not make elasticmq or dynalite come from the environment.
    expect(endpointFromEnv('elasticmq', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBeUndefined();
    expect(endpointFromEnv('dynalite', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBeUndefined();
  });

  it('keeps the caller region/credentials and passes AWS_ENDPOINT_URL_S3 on', () => {
    const r = endpointFromEnv('moto', {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
    });
    expect(r?.kind === 'endpoint' && r.endpoint.env).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
    });
  });

  it('rejects AWS_ENDPOINT_URL_S3 alone rather than mixing it with a started moto', () => {
    const r = endpointFromEnv('moto', { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' });
    expect(r?.kind).toBe('invalid');
    expect(r?.kind === 'invalid' && r.reason).toMatch(/set AWS_ENDPOINT_URL as well/);
  });

  it('AWS_ENDPOINT_URL_SQS / _DYNAMODB stand for the second opinions', () => {
    const sqs = endpointFromEnv('elasticmq', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324' });
    expect(sqs?.kind === 'endpoint' && sqs.endpoint.env.AWS_ENDPOINT_URL_SQS).toBe('http://127.0.0.1:9324');
    const ddb = endpointFromEnv('dynalite', { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4567' });
    expect(ddb?.kind === 'endpoint' && ddb.endpoint.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(
      'http://127.0.0.1:4567',
    );
    expect(endpointFromEnv('elasticmq', { AWS_ENDPOINT_URL_SQS: 'localhost:9324' })?.kind).toBe('invalid');
  });

  it('STORAGE_EMULATOR_HOST must carry the scheme', () => {
    const ok = endpointFromEnv('fake-gcs-server', { STORAGE_EMULATOR_HOST: 'http://127.0.0.1:4443/' });
    expect(ok?.kind === 'endpoint' && ok.endpoint.env).toEqual({
      STORAGE_EMULATOR_HOST: 'http://127.0.0.1:4443',
      GOOGLE_CLOUD_PROJECT: 'polycloud-test',
    });
    const bad = endpointFromEnv('fake-gcs-server', { STORAGE_EMULATOR_HOST: '127.0.0.1:4443' });
    expect(bad?.kind === 'invalid' && bad.reason).toMatch(/must include the scheme/);
  });

  it('PUBSUB_EMULATOR_HOST and BIGTABLE_EMULATOR_HOST are host:port', () => {
    const ps = endpointFromEnv('pstest', {
      PUBSUB_EMULATOR_HOST: 'localhost:8085',
      GOOGLE_CLOUD_PROJECT: 'p1',
    });
    expect(ps?.kind === 'endpoint' && ps.endpoint.env).toEqual({
      PUBSUB_EMULATOR_HOST: 'localhost:8085',
      GOOGLE_CLOUD_PROJECT: 'p1',
    });
    const bt = endpointFromEnv('bigtable-emulator', { BIGTABLE_EMULATOR_HOST: '[::1]:8086' });
    expect(bt?.kind === 'endpoint' && bt.endpoint.env.BIGTABLE_EMULATOR_HOST).toBe('[::1]:8086');
    expect(endpointFromEnv('pstest', { PUBSUB_EMULATOR_HOST: 'http://localhost:8085' })?.kind).toBe(
      'invalid',
    );
  });

  it('AZURE_STORAGE_CONNECTION_STRING needs all three endpoints (or development storage)', () => {
    const dev = endpointFromEnv('azurite', { AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' });
    expect(dev?.kind).toBe('endpoint');
    const blobOnly = endpointFromEnv('azurite', {
      AZURE_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=b;BlobEndpoint=http://127.0.0.1:10000/a',
    });
    expect(blobOnly?.kind === 'invalid' && blobOnly.reason).toMatch(/QueueEndpoint/);
  });
});
