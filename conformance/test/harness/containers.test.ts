import { describe, expect, it } from 'vitest';
import { azureEndpoints } from '../../src/emulators/catalog.js';
import {
  containerPlan,
  demuxDockerLog,
  dockerAvailable,
  dockerTarget,
  endpointFromContainer,
} from '../../src/emulators/containers.js';

describe('container source (c): started container -> endpoint', () => {
  it('moto runs as motoserver/moto, listening inside on the host port', () => {
    const plan = containerPlan('moto')!;
    expect(plan.image).toBe('motoserver/moto:5.2.5');
    // The image's entrypoint is `moto_server -H 0.0.0.0`; the command adds the port.
    expect(plan.command!({ http: 49153 })).toEqual(['-p', '49153']);
    const ep = endpointFromContainer('moto', {
      image: plan.image,
      host: 'localhost',
      mappedPorts: { http: 49153 },
    });
    expect(ep).toEqual({
      id: 'moto',
      source: 'container',
      env: {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:49153',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      description: 'moto via container motoserver/moto:5.2.5 (127.0.0.1:49153)',
    });
  });

  it('LocalStack 4.14.0 gets its gateway on the host port, so generated URLs are valid outside', () => {
    const plan = containerPlan('localstack')!;
    expect(plan.image).toBe('localstack/localstack:4.14.0');
    expect(plan.environment!({ http: 49153 })).toMatchObject({
      GATEWAY_LISTEN: '0.0.0.0:49153',
      LOCALSTACK_HOST: '127.0.0.1:49153',
    });
    expect(
      endpointFromContainer('localstack', {
        image: plan.image,
        host: 'localhost',
        mappedPorts: { http: 49153 },
      }).env,
    ).toMatchObject({ AWS_ENDPOINT_URL: 'http://127.0.0.1:49153' });
  });

  it('fake-gcs-server gets STORAGE_EMULATOR_HOST with scheme and a matching external URL', () => {
    const plan = containerPlan('fake-gcs-server')!;
    expect(plan.image).toMatch(/^fsouza\/fake-gcs-server:1\.\d+\.\d+$/);
    expect(plan.command!({ http: 40001 })).toEqual(
      expect.arrayContaining(['-external-url', 'http://127.0.0.1:40001']),
    );
    const ep = endpointFromContainer('fake-gcs-server', {
      image: plan.image,
      host: '192.168.99.100',
      mappedPorts: { http: 40001 },
    });
    expect(ep.env).toEqual({
      STORAGE_EMULATOR_HOST: 'http://192.168.99.100:40001',
      GOOGLE_CLOUD_PROJECT: 'polycloud-test',
    });
  });

  it('the gcloud emulators image serves Pub/Sub and Bigtable as host:port', () => {
    const ps = containerPlan('pstest')!;
    const bt = containerPlan('bigtable-emulator')!;
    expect(ps.image).toMatch(/google-cloud-cli:\d+\.\d+\.\d+-emulators$/);
    expect(bt.image).toBe(ps.image);
    expect(ps.command!({ grpc: 40002 })).toEqual(
      expect.arrayContaining(['pubsub', '--host-port=0.0.0.0:40002']),
    );
    expect(bt.command!({ grpc: 40003 })).toEqual(
      expect.arrayContaining(['bigtable', '--host-port=0.0.0.0:40003']),
    );
    expect(
      endpointFromContainer('pstest', { image: ps.image, host: 'localhost', mappedPorts: { grpc: 40002 } })
        .env,
    ).toEqual({ PUBSUB_EMULATOR_HOST: '127.0.0.1:40002', GOOGLE_CLOUD_PROJECT: 'polycloud-test' });
    expect(
      endpointFromContainer('bigtable-emulator', {
        image: bt.image,
        host: 'localhost',
        mappedPorts: { grpc: 40003 },
      }).env,
    ).toEqual({ BIGTABLE_EMULATOR_HOST: '127.0.0.1:40003', GOOGLE_CLOUD_PROJECT: 'polycloud-test' });
  });

  it('Azurite maps three ports into one connection string', () => {
    const plan = containerPlan('azurite')!;
    expect(plan.image).toMatch(/^mcr\.microsoft\.com\/azure-storage\/azurite:/);
    const ep = endpointFromContainer('azurite', {
      image: plan.image,
      host: 'localhost',
      mappedPorts: { blob: 41000, queue: 41001, table: 41002 },
    });
    expect(azureEndpoints(ep.env.AZURE_STORAGE_CONNECTION_STRING!)).toEqual({
      blob: 'http://127.0.0.1:41000/devstoreaccount1',
      queue: 'http://127.0.0.1:41001/devstoreaccount1',
      table: 'http://127.0.0.1:41002/devstoreaccount1',
    });
    expect(ep.description).toContain('127.0.0.1:41000, 127.0.0.1:41001, 127.0.0.1:41002');
  });

  it('refuses a container without the ports the endpoint needs', () => {
    expect(() =>
      endpointFromContainer('azurite', { image: 'x', host: 'localhost', mappedPorts: { blob: 1, queue: 2 } }),
    ).toThrow(/no mapped port "table"/);
  });

  it('has no container for the second opinions', () => {
    expect(containerPlan('elasticmq')).toBeUndefined();
    expect(containerPlan('dynalite')).toBeUndefined();
  });
});

describe('Docker detection', () => {
  it('follows DOCKER_HOST', () => {
    expect(dockerTarget({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({
      socketPath: '/run/user/1000/docker.sock',
      local: true,
    });
    expect(dockerTarget({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual({
      url: 'http://10.0.0.5:2375',
      local: false,
    });
  });

  it('is false when no engine answers, and when POLYCLOUD_DOCKER=off', async () => {
    expect(await dockerAvailable({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).toBe(false);
    expect(await dockerAvailable({ POLYCLOUD_DOCKER: 'off' })).toBe(false);
  });
});

describe('container logs', () => {
  it('demultiplexes the Docker log stream (stdout and stderr frames) and passes raw text through', () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text, 'utf8');
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    expect(demuxDockerLog(Buffer.concat([frame(1, 'out ü\n'), frame(2, 'err\n')]))).toBe('out ü\nerr\n');
    expect(demuxDockerLog(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });
});
