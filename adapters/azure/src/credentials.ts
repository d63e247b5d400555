import { checkEndpointTransport, invalidArgument, pcError, urlBool } from '@polycloud/core/driver/base';
import { PROVIDER } from './errors.js';

/** Structurally the `TokenCredential` of @azure/core-auth (what @azure/identity's credentials are). */
export interface AzureTokenCredential {
  /**
   * An OAuth token for `scopes` (Storage uses `https://storage.azure.com/.default`), or null
   * when the credential cannot issue one.
   */
  getToken(
    scopes: string | string[],
    options?: object,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/**
 * Where an Azure driver gets its credentials. Nothing of this goes in a URL.
 *
 * Resolution order: an explicit `connectionString`; then `accountKey` (or AZURE_STORAGE_KEY)
 * with the account; then an explicit `credential`; then AZURE_STORAGE_CONNECTION_STRING when
 * it names the same account (or no account was asked for); then DefaultAzureCredential from
 * @azure/identity (imported lazily, only when a request needs a token).
 */
export interface AzureCredentialOptions {
  /** A storage connection string; default AZURE_STORAGE_CONNECTION_STRING. */
  readonly connectionString?: string;
  /** Storage account name; default AZURE_STORAGE_ACCOUNT or the connection string's AccountName. */
  readonly account?: string;
  /** Shared key of the account; default AZURE_STORAGE_KEY. */
  readonly accountKey?: string;
  /** A token credential (any @azure/identity credential). */
  readonly credential?: AzureTokenCredential;
  /**
   * The service endpoint (e.g. `https://acct.blob.core.windows.net`, a sovereign cloud's, or an
   * emulator's `http://127.0.0.1:10000/devstoreaccount1`). Default from the connection string,
   * else `https://<account>.<service>.core.windows.net`.
   */
  readonly endpoint?: string;
  /**
   * Allows a plain `http://` endpoint (option or connection string) on a host other than this
   * machine (refused by default: credentials and data would cross the network unencrypted).
   * Loopback emulators such as Azurite on 127.0.0.1 need nothing.
   */
  readonly allowInsecureHttp?: boolean;
}

export type AzureService = 'blob' | 'queue' | 'table';

/** Resolved credentials for one service. */
export type ResolvedCredentials =
  | {
      readonly kind: 'connectionString';
      readonly connectionString: string;
      readonly endpoint: string;
      readonly account: string | undefined;
    }
  | {
      readonly kind: 'sharedKey';
      readonly account: string;
      readonly accountKey: string;
      readonly endpoint: string;
    }
  | {
      readonly kind: 'token';
      readonly account: string | undefined;
      readonly credential: AzureTokenCredential;
      readonly endpoint: string;
    };

const CS_ENDPOINT_KEY: Record<AzureService, string> = {
  blob: 'BlobEndpoint',
  queue: 'QueueEndpoint',
  table: 'TableEndpoint',
};

/** The well-known development account of Azurite and the legacy storage emulator. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const DEV_PORTS: Record<AzureService, number> = { blob: 10000, queue: 10001, table: 10002 };

/** Splits `Key=Value;Key=Value` (values may contain `=`). Keys are matched case-insensitively. */
export function parseConnectionString(cs: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of cs.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    out.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  return out;
}

/** The endpoint a connection string gives for `service`. */
export function connectionStringEndpoint(cs: string, service: AzureService): string | undefined {
  const p = parseConnectionString(cs);
  if (p.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    const proxy = p.get('developmentstorageproxyuri');
    const base = proxy ?? 'http://127.0.0.1';
    return `${base.replace(/\/$/, '')}:${DEV_PORTS[service]}/${DEV_ACCOUNT}`;
  }
  const explicit = p.get(CS_ENDPOINT_KEY[service].toLowerCase());
  if (explicit) return explicit.replace(/\/+$/, '');
  const account = p.get('accountname');
  if (!account) return undefined;
  const protocol = p.get('defaultendpointsprotocol') ?? 'https';
  const suffix = p.get('endpointsuffix') ?? 'core.windows.net';
  return `${protocol}://${account}.${service}.${suffix}`;
}

export function connectionStringAccount(cs: string): string | undefined {
  const p = parseConnectionString(cs);
  if (p.get('usedevelopmentstorage')?.toLowerCase() === 'true') return DEV_ACCOUNT;
  return p.get('accountname');
}

export function connectionStringKey(cs: string): string | undefined {
  const p = parseConnectionString(cs);
  if (p.get('usedevelopmentstorage')?.toLowerCase() === 'true') return DEV_KEY;
  return p.get('accountkey');
}

function defaultEndpoint(account: string, service: AzureService): string {
  return `https://${account}.${service}.core.windows.net`;
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * Works out which credentials to use for `service`. Throws INVALID_ARGUMENT when nothing names
 * an account at all.
 */
export function resolveCredentials(
  opts: AzureCredentialOptions,
  service: AzureService,
  svcName: 'blob' | 'queue' | 'kv',
): ResolvedCredentials {
  const c = resolveUnchecked(opts, service, svcName);
  const source =
    opts.endpoint !== undefined
      ? 'the endpoint option'
      : c.kind === 'connectionString'
        ? opts.connectionString !== undefined
          ? 'the connection string'
          : 'AZURE_STORAGE_CONNECTION_STRING'
        : 'the account settings';
  checkEndpointTransport(c.endpoint, {
    service: svcName,
    provider: PROVIDER,
    source,
    allow: opts.allowInsecureHttp,
  });
  return c;
}

function resolveUnchecked(
  opts: AzureCredentialOptions,
  service: AzureService,
  svcName: 'blob' | 'queue' | 'kv',
): ResolvedCredentials {
  const account = opts.account ?? env('AZURE_STORAGE_ACCOUNT');
  const endpointFor = (acct: string | undefined, cs?: string): string => {
    if (opts.endpoint !== undefined) return opts.endpoint.replace(/\/+$/, '');
    const fromCs = cs === undefined ? undefined : connectionStringEndpoint(cs, service);
    if (fromCs !== undefined) return fromCs;
    if (acct === undefined) {
      const source =
        cs === undefined
          ? undefined
          : opts.connectionString !== undefined
            ? 'the connectionString option'
            : 'AZURE_STORAGE_CONNECTION_STRING';
      throw invalidArgument(
        source === undefined
          ? `azure ${service}: no storage account given; pass account= or set AZURE_STORAGE_ACCOUNT`
          : `azure ${service}: ${source} names no account or ${service} endpoint; expected AccountName=…;AccountKey=…, a ${CS_ENDPOINT_KEY[service]}=… entry or UseDevelopmentStorage=true (copy it from the portal or \`az storage account show-connection-string\`)`,
        {
          provider: PROVIDER,
          service: svcName,
          operation: 'open',
        },
      );
    }
    return defaultEndpoint(acct, service);
  };

  const fromConnectionString = (cs: string): ResolvedCredentials => {
    const csAccount = connectionStringAccount(cs);
    const key = connectionStringKey(cs);
    // An explicit endpoint with a key-based connection string: use the key against that endpoint.
    if (opts.endpoint !== undefined && key !== undefined && csAccount !== undefined) {
      return { kind: 'sharedKey', account: csAccount, accountKey: key, endpoint: endpointFor(csAccount) };
    }
    return {
      kind: 'connectionString',
      connectionString: cs,
      endpoint: endpointFor(csAccount, cs),
      account: csAccount,
    };
  };

  if (opts.connectionString !== undefined) return fromConnectionString(opts.connectionString);
  const key = opts.accountKey ?? (opts.credential === undefined ? env('AZURE_STORAGE_KEY') : undefined);
  if (key !== undefined && account !== undefined) {
    return { kind: 'sharedKey', account, accountKey: key, endpoint: endpointFor(account) };
  }
  if (opts.credential !== undefined) {
    return { kind: 'token', account, credential: opts.credential, endpoint: endpointFor(account) };
  }
  const envCs = env('AZURE_STORAGE_CONNECTION_STRING');
  if (envCs !== undefined) {
    const csAccount = connectionStringAccount(envCs);
    if (account === undefined || csAccount === undefined || csAccount === account)
      return fromConnectionString(envCs);
  }
  return { kind: 'token', account, credential: lazyDefaultCredential(), endpoint: endpointFor(account) };
}

let defaultCredential: Promise<AzureTokenCredential> | undefined;

/**
 * A TokenCredential that imports @azure/identity and builds DefaultAzureCredential on first use,
 * so clients can be built synchronously and the package is only needed when a token is.
 */
export function lazyDefaultCredential(): AzureTokenCredential {
  return {
    async getToken(scopes, options) {
      defaultCredential ??= import('@azure/identity').then(
        (m) => new m.DefaultAzureCredential() as AzureTokenCredential,
        (err: unknown) => {
          defaultCredential = undefined;
          throw pcError(
            'UNAUTHENTICATED',
            'no Azure storage credentials were given (connection string, AZURE_STORAGE_KEY or a credential) and @azure/identity, needed for DefaultAzureCredential, is not installed: run `npm install @azure/identity`',
            { provider: PROVIDER, cause: err, retryable: false },
          );
        },
      );
      const cred = await defaultCredential;
      return cred.getToken(scopes, options);
    },
  };
}

/** Whether requests to `endpoint` go over plain HTTP (emulators). */
export function isInsecure(endpoint: string): boolean {
  return endpoint.toLowerCase().startsWith('http:');
}

/** Picks credential fields out of untyped driver options (from `openBucket(url, { driverOptions })`). */
export function credentialOptionsFrom(
  o: Readonly<Record<string, unknown>> | undefined,
): AzureCredentialOptions {
  if (!o) return {};
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const credential = o.credential;
  const out: { -readonly [K in keyof AzureCredentialOptions]: AzureCredentialOptions[K] } = {};
  const cs = str('connectionString');
  if (cs !== undefined) out.connectionString = cs;
  const account = str('account');
  if (account !== undefined) out.account = account;
  const key = str('accountKey');
  if (key !== undefined) out.accountKey = key;
  const endpoint = str('endpoint');
  if (endpoint !== undefined) out.endpoint = endpoint;
  if (typeof o.allowInsecureHttp === 'boolean') out.allowInsecureHttp = o.allowInsecureHttp;
  if (
    typeof credential === 'object' &&
    credential !== null &&
    typeof (credential as AzureTokenCredential).getToken === 'function'
  ) {
    out.credential = credential as AzureTokenCredential;
  }
  return out;
}

/** `{ allowInsecureHttp }` from the URL parameter, or nothing when it is absent. */
export function insecureParam(
  value: string | undefined,
  service: 'blob' | 'queue' | 'kv',
): { allowInsecureHttp?: boolean } {
  const v = urlBool(value, 'allowInsecureHttp', service);
  return v === undefined ? {} : { allowInsecureHttp: v };
}
