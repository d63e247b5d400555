import { checkEndpointTransport, invalidArgument } from '@polycloud/core/driver/base';

type Service = 'blob' | 'queue' | 'kv';

/**
 * The SDK's own retries are off in every client polycloud builds: the portable layer is the one
 * retry owner (attempts would multiply otherwise, and a non-idempotent call such as a DynamoDB
 * ADD must not be re-sent beneath it). A `clientConfig.maxAttempts` still wins, and a client
 * passed in keeps its own setting; then both layers retry.
 */
export const SDK_RETRIES_OFF = { maxAttempts: 1 } as const;

/** The settings every polycloud AWS client shares; anything else goes through `clientConfig`. */
export interface AwsConnectionOptions {
  /** e.g. 'eu-west-1'; default: the SDK's chain (AWS_REGION, profile), or us-east-1 with a custom endpoint. */
  readonly region?: string | undefined;
  /** A custom endpoint (emulator, S3-compatible server); default: AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL. */
  readonly endpoint?: string | undefined;
  /**
   * Allows a plain `http://` endpoint on a host other than this machine (refused by default:
   * credentials and data would cross the network unencrypted). Loopback emulators need nothing.
   */
  readonly allowInsecureHttp?: boolean | undefined;
}

/**
 * The endpoint a client polycloud builds will use (explicit option, else `clientConfig.endpoint`,
 * else the standard variables), checked: a URL, and not plain text to another machine unless
 * `allowInsecureHttp`.
 */
export function checkedEndpoint(
  opts: AwsConnectionOptions & { readonly clientConfig?: { readonly endpoint?: unknown } | undefined },
  envSuffix: 'S3' | 'SQS' | 'DYNAMODB',
  service: Service,
): string | undefined {
  checkEndpoint(opts.endpoint, service);
  const fromConfig = typeof opts.clientConfig?.endpoint === 'string' ? opts.clientConfig.endpoint : undefined;
  const endpoint = resolveEndpoint(opts.endpoint ?? fromConfig, envSuffix);
  if (endpoint === undefined) return undefined;
  const source =
    opts.endpoint !== undefined && opts.endpoint !== ''
      ? 'the endpoint option'
      : fromConfig !== undefined && fromConfig !== ''
        ? 'clientConfig.endpoint'
        : process.env[`AWS_ENDPOINT_URL_${envSuffix}`]
          ? `AWS_ENDPOINT_URL_${envSuffix}`
          : 'AWS_ENDPOINT_URL';
  checkEndpointTransport(endpoint, { service, provider: 'aws', source, allow: opts.allowInsecureHttp });
  return endpoint;
}

/**
 * The endpoint in effect: the explicit one, else the standard variables the SDK itself honours
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`).
 */
export function resolveEndpoint(
  explicit: string | undefined,
  envSuffix: 'S3' | 'SQS' | 'DYNAMODB',
): string | undefined {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  const v = process.env[`AWS_ENDPOINT_URL_${envSuffix}`] ?? process.env.AWS_ENDPOINT_URL;
  return v === undefined || v === '' ? undefined : v;
}

/** Region to pass to the client: explicit, else undefined (SDK chain), or us-east-1 for a custom endpoint. */
export function resolveRegion(
  explicit: string | undefined,
  endpoint: string | undefined,
): string | undefined {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (endpoint !== undefined && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION)
    return 'us-east-1';
  return undefined;
}

/** Checks an endpoint parameter is an http(s) URL. */
export function checkEndpoint(endpoint: string | undefined, service: Service): void {
  if (endpoint === undefined) return;
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch (err) {
    throw invalidArgument(`endpoint "${endpoint}" is not a URL; expected e.g. http://127.0.0.1:5000`, {
      service,
      operation: 'open',
      cause: err,
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw invalidArgument(`endpoint "${endpoint}" must be an http:// or https:// URL`, {
      service,
      operation: 'open',
    });
  }
}

/** The single path segment of a URL such as `s3://bucket` (the host), rejecting extra path parts. */
export function urlResourceName(url: URL, what: string, service: Service): string {
  const host = decodeURIComponent(url.hostname);
  const path = url.pathname === '/' ? '' : url.pathname;
  if (host === '' || path !== '') {
    throw invalidArgument(
      `${url.protocol}//${host}${path}: expected ${url.protocol}//${what} with the ${what} as the host`,
      {
        service,
        operation: 'open',
      },
    );
  }
  return host;
}

/** Reads polycloud's `driverOptions` for AWS: `{ client }` or `{ clientConfig }`. */
export function driverOptionsOf<C, Cfg>(
  opts: { readonly driverOptions?: Readonly<Record<string, unknown>> } | undefined,
  isClient: (x: unknown) => x is C,
  service: Service,
): { client?: C; clientConfig?: Cfg; allowInsecureHttp?: boolean } {
  const d = opts?.driverOptions;
  if (d === undefined) return {};
  for (const k of Object.keys(d)) {
    if (k !== 'client' && k !== 'clientConfig' && k !== 'allowInsecureHttp') {
      throw invalidArgument(
        `unknown driverOptions key "${k}" for the AWS adapter; allowed: client, clientConfig, allowInsecureHttp`,
        {
          service,
          operation: 'open',
        },
      );
    }
  }
  const out: { client?: C; clientConfig?: Cfg; allowInsecureHttp?: boolean } = {};
  if (d.allowInsecureHttp !== undefined) {
    if (typeof d.allowInsecureHttp !== 'boolean') {
      throw invalidArgument('driverOptions.allowInsecureHttp must be true or false', {
        service,
        operation: 'open',
      });
    }
    out.allowInsecureHttp = d.allowInsecureHttp;
  }
  if (d.client !== undefined) {
    if (!isClient(d.client)) {
      throw invalidArgument('driverOptions.client is not an AWS SDK v3 client of the right kind', {
        service,
        operation: 'open',
      });
    }
    out.client = d.client;
  }
  if (d.clientConfig !== undefined) {
    if (typeof d.clientConfig !== 'object' || d.clientConfig === null) {
      throw invalidArgument('driverOptions.clientConfig must be an object', { service, operation: 'open' });
    }
    out.clientConfig = d.clientConfig as Cfg;
  }
  return out;
}

/**
 * Socket bounds for every client polycloud builds (a caller's own requestHandler wins): 10 s to
 * connect, and a socket with no traffic either way for 30 s is destroyed (an idle-read bound,
 * so large transfers are not cut while bytes flow). Core's attempt timeout ends calls first;
 * these free the socket, and let the process exit, where a request was not aborted.
 */
export const HTTP_TIMEOUTS = Object.freeze({ connectionTimeout: 10_000, socketTimeout: 30_000 });
