import { invalidArgument } from '@polycloud/core/driver/base';
import type { ResolvedCredentials } from './credentials.js';
import { PROVIDER } from './errors.js';

/** Marks requests from polycloud in the service logs. */
export const USER_AGENT_PREFIX = 'polycloud';

/** Host part of an `azblob://container` style URL, checked to be a bare name. */
export function resourceFromUrl(url: URL, service: 'blob' | 'queue' | 'kv', what: string): string {
  const name = decodeURIComponent(url.hostname);
  if (name === '') {
    throw invalidArgument(
      `${url.protocol}// needs a ${what} name, e.g. ${url.protocol}//my-${what}?account=myaccount`,
      {
        provider: PROVIDER,
        service,
        operation: 'open',
      },
    );
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw invalidArgument(
      `${url.protocol}//${name}${url.pathname}: a ${what} URL has no path; put the name in the host`,
      {
        provider: PROVIDER,
        service,
        operation: 'open',
      },
    );
  }
  if (url.port !== '') {
    throw invalidArgument(
      `${url.protocol}//${url.host}: the ${what} name cannot have a port; use endpoint= for emulators`,
      {
        provider: PROVIDER,
        service,
        operation: 'open',
      },
    );
  }
  return name;
}

/** `endpoint` + `/name`, keeping an emulator's path-style account segment. */
export function joinEndpoint(endpoint: string, name: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(name)}`;
}

/** A short description of the credentials, for error messages (never secrets). */
export function describeCredentials(c: ResolvedCredentials): string {
  switch (c.kind) {
    case 'connectionString':
      return `connection string for ${c.endpoint}`;
    case 'sharedKey':
      return `shared key of account ${c.account} at ${c.endpoint}`;
    case 'token':
      return `token credential at ${c.endpoint}`;
  }
}
