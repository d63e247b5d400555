/**
 * Source (a): the environment already names an endpoint. Then the harness starts nothing for
 * that emulator and hands the tests the variables as they are.
 */
import { AWS_DEFAULTS, azureEndpoints, GOOGLE_PROJECT } from './catalog.js';
import { pinnedVersions } from './paths.js';
import type { EmulatorEndpoint, EmulatorId } from './types.js';

/** One environment variable that points the harness at an already running emulator. */
export interface EnvVariableMapping {
  readonly variable: string;
  readonly emulator: EmulatorId;
  readonly meaning: string;
}

/** Which variable stands for which emulator (documented in docs/emulators.md). */
export const ENV_SOURCE_VARIABLES: readonly EnvVariableMapping[] = [
  {
    variable: 'AWS_ENDPOINT_URL',
    emulator: 'moto',
    meaning: 'one AWS-compatible server for S3, SQS and DynamoDB',
  },
  {
    variable: 'AWS_ENDPOINT_URL_S3',
    emulator: 'moto',
    meaning: 'S3 override, passed on with AWS_ENDPOINT_URL (alone it is an error)',
  },
  { variable: 'AWS_ENDPOINT_URL_SQS', emulator: 'elasticmq', meaning: 'the second-opinion SQS server' },
  {
    variable: 'AWS_ENDPOINT_URL_DYNAMODB',
    emulator: 'dynalite',
    meaning: 'the second-opinion DynamoDB server',
  },
  {
    variable: 'POLYCLOUD_LOCALSTACK_ENDPOINT',
    emulator: 'localstack',
    meaning: 'a running LocalStack (S3, SQS, DynamoDB), e.g. http://127.0.0.1:4566',
  },
  { variable: 'STORAGE_EMULATOR_HOST', emulator: 'fake-gcs-server', meaning: 'Cloud Storage, with scheme' },
  { variable: 'PUBSUB_EMULATOR_HOST', emulator: 'pstest', meaning: 'Pub/Sub, host:port' },
  { variable: 'BIGTABLE_EMULATOR_HOST', emulator: 'bigtable-emulator', meaning: 'Bigtable, host:port' },
  { variable: 'AZURE_STORAGE_CONNECTION_STRING', emulator: 'azurite', meaning: 'Blob, Queue and Table' },
];

/** Every variable any emulator endpoint may set; tests clear these before applying one endpoint's `env`. */
export const EMULATOR_ENV_VARIABLES: readonly string[] = [
  ...ENV_SOURCE_VARIABLES.map((m) => m.variable),
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'GOOGLE_CLOUD_PROJECT',
];

export type EnvSourceResult =
  | { readonly kind: 'endpoint'; readonly endpoint: EmulatorEndpoint; readonly variables: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string; readonly variables: readonly string[] };

const nonEmpty = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

function awsCommon(env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    AWS_REGION: env.AWS_REGION || env.AWS_DEFAULT_REGION || AWS_DEFAULTS.AWS_REGION,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID || AWS_DEFAULTS.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY || AWS_DEFAULTS.AWS_SECRET_ACCESS_KEY,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function isHostPort(value: string): boolean {
  return /^[^\s/:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(value);
}

/**
 * The endpoint the environment names for `id`, an explanation when the variable is set but
 * unusable, or undefined when the environment says nothing about it.
 */
export function endpointFromEnv(
  id: EmulatorId,
  env: NodeJS.ProcessEnv = process.env,
): EnvSourceResult | undefined {
  const version = pinnedVersions().emulators[id].version;
  const make = (vars: Record<string, string>, variables: string[], where: string): EnvSourceResult => ({
    kind: 'endpoint',
    variables,
    endpoint: {
      id,
      source: 'env',
      env: vars,
      description: `${id} from environment (${where}); pinned ${version} not started`,
    },
  });
  const invalid = (reason: string, variables: string[]): EnvSourceResult => ({
    kind: 'invalid',
    reason,
    variables,
  });

  switch (id) {
    case 'moto': {
      const all = env.AWS_ENDPOINT_URL;
      const s3 = env.AWS_ENDPOINT_URL_S3;
      if (!nonEmpty(all)) {
        return nonEmpty(s3)
          ? invalid(
              'AWS_ENDPOINT_URL_S3 is set without AWS_ENDPOINT_URL: the moto slot covers S3, SQS and DynamoDB, ' +
                'so set AWS_ENDPOINT_URL as well (or unset AWS_ENDPOINT_URL_S3 to let the harness start moto)',
              ['AWS_ENDPOINT_URL_S3'],
            )
          : undefined;
      }
      if (!isHttpUrl(all))
        return invalid(`AWS_ENDPOINT_URL=${all} is not an http(s) URL`, ['AWS_ENDPOINT_URL']);
      const vars: Record<string, string> = { AWS_ENDPOINT_URL: all, ...awsCommon(env) };
      const variables = ['AWS_ENDPOINT_URL'];
      if (nonEmpty(s3)) {
        if (!isHttpUrl(s3))
          return invalid(`AWS_ENDPOINT_URL_S3=${s3} is not an http(s) URL`, ['AWS_ENDPOINT_URL_S3']);
        vars.AWS_ENDPOINT_URL_S3 = s3;
        variables.push('AWS_ENDPOINT_URL_S3');
      }
      return make(vars, variables, variables.map((v) => `${v}=${env[v]}`).join(', '));
    }
    case 'elasticmq':
    case 'dynalite': {
      const variable = id === 'elasticmq' ? 'AWS_ENDPOINT_URL_SQS' : 'AWS_ENDPOINT_URL_DYNAMODB';
      const value = env[variable];
      if (!nonEmpty(value)) return undefined;
      if (!isHttpUrl(value)) return invalid(`${variable}=${value} is not an http(s) URL`, [variable]);
      return make({ [variable]: value, ...awsCommon(env) }, [variable], `${variable}=${value}`);
    }
    case 'localstack': {
      // Not AWS_ENDPOINT_URL: that one is moto's slot; LocalStack runs beside it.
      const value = env.POLYCLOUD_LOCALSTACK_ENDPOINT;
      if (!nonEmpty(value)) return undefined;
      const variable = 'POLYCLOUD_LOCALSTACK_ENDPOINT';
      if (!isHttpUrl(value)) return invalid(`${variable}=${value} is not an http(s) URL`, [variable]);
      return make({ AWS_ENDPOINT_URL: value, ...awsCommon(env) }, [variable], `${variable}=${value}`);
    }
    case 'fake-gcs-server': {
      const value = env.STORAGE_EMULATOR_HOST;
      if (!nonEmpty(value)) return undefined;
      if (!isHttpUrl(value)) {
        return invalid(`STORAGE_EMULATOR_HOST=${value} must include the scheme, e.g. http://127.0.0.1:4443`, [
          'STORAGE_EMULATOR_HOST',
        ]);
      }
      return make(
        {
          STORAGE_EMULATOR_HOST: value.replace(/\/+$/, ''),
          GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT || GOOGLE_PROJECT,
        },
        ['STORAGE_EMULATOR_HOST'],
        `STORAGE_EMULATOR_HOST=${value}`,
      );
    }
    case 'pstest':
    case 'bigtable-emulator': {
      const variable = id === 'pstest' ? 'PUBSUB_EMULATOR_HOST' : 'BIGTABLE_EMULATOR_HOST';
      const value = env[variable];
      if (!nonEmpty(value)) return undefined;
      if (!isHostPort(value))
        return invalid(`${variable}=${value} must be host:port (no scheme)`, [variable]);
      return make(
        { [variable]: value, GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT || GOOGLE_PROJECT },
        [variable],
        `${variable}=${value}`,
      );
    }
    case 'azurite': {
      const value = env.AZURE_STORAGE_CONNECTION_STRING;
      if (!nonEmpty(value)) return undefined;
      const endpoints = azureEndpoints(value);
      if (!endpoints.blob || !endpoints.queue || !endpoints.table) {
        return invalid(
          'AZURE_STORAGE_CONNECTION_STRING must name BlobEndpoint, QueueEndpoint and TableEndpoint ' +
            '(or be UseDevelopmentStorage=true)',
          ['AZURE_STORAGE_CONNECTION_STRING'],
        );
      }
      return make(
        { AZURE_STORAGE_CONNECTION_STRING: value },
        ['AZURE_STORAGE_CONNECTION_STRING'],
        `blob ${endpoints.blob}, queue ${endpoints.queue}, table ${endpoints.table}`,
      );
    }
  }
}
