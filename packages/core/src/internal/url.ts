import { invalidArgument } from '../errors.js';
import type { Service } from '../telemetry.js';

/** The URL without user name and password, for messages. */
export function redact(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

/**
 * Reads a URL's query parameters, rejecting any not in `allowed` so a typo is not ignored,
 * and any given twice or with an empty value.
 * For adapters.
 *
 * @example
 * const q = urlParams(url, ['region', 'endpoint'], 'blob');
 */
export function urlParams(url: URL, allowed: readonly string[], service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (!allowed.includes(k)) {
      throw invalidArgument(
        `unknown URL parameter "${k}" in ${redact(url)}; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'this scheme takes no parameters'}`,
        { service, operation: 'open' },
      );
    }
    if (k in out)
      throw invalidArgument(`URL parameter "${k}" appears twice in ${redact(url)}`, {
        service,
        operation: 'open',
      });
    // No parameter means anything when empty: `?region=` is a slip, not a request for a default.
    if (v === '') {
      throw invalidArgument(
        `URL parameter "${k}" is empty in ${redact(url)}; give it a value or leave it out for the default`,
        { service, operation: 'open' },
      );
    }
    out[k] = v;
  }
  return out;
}

/** Parses a boolean URL parameter ("true"/"false"/"1"/"0"). */
export function urlBool(value: string | undefined, name: string, service: Service): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidArgument(`URL parameter ${name} must be true or false, got "${value}"`, {
    service,
    operation: 'open',
  });
}
