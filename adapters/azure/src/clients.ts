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
  const rule = nameRule(name, what);
  if (rule !== undefined) {
    throw invalidArgument(`${url.protocol}//${name}: "${name}" is not a valid Azure ${what} name; ${rule}`, {
      provider: PROVIDER,
      service,
      operation: 'open',
    });
  }
  return name;
}

/**
 * The service's naming rule that `name` breaks, if any. Checked when opening so that a bad name
 * fails with the rule instead of an opaque 400 (OutOfRangeInput, InvalidResourceName) on the
 * first call or in `polycloud create`.
 */
function nameRule(name: string, what: string): string | undefined {
  if (what === 'table') {
    return /^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)
      ? undefined
      : 'table names are 3 to 63 letters and digits, starting with a letter (no hyphens or underscores)';
  }
  // Containers and queues: the special containers ($root, $web, $logs) aside, 3 to 63 lowercase
  // letters, digits and single hyphens, starting and ending with a letter or digit.
  if (what === 'container' && /^\$(root|web|logs)$/.test(name)) return undefined;
  return /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(name)
    ? undefined
    : `${what} names are 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`;
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
