import { invalidArgument } from '../errors.js';
import type { Service } from '../telemetry.js';

/**
 * The option (and URL parameter) that lets an adapter talk plain text to a host that is not
 * this machine. The name is the same in every adapter.
 */
export const ALLOW_INSECURE_HTTP = 'allowInsecureHttp';

/** The variable that allows plain text for every adapter of the process (compose networks). */
export const ALLOW_INSECURE_HTTP_ENV = 'POLYCLOUD_ALLOW_INSECURE_HTTP';

/**
 * Whether `host` is this machine: `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8, `::1`
 * (also as `[::1]` or an IPv4-mapped `::ffff:127.x.y.z`).
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('10.0.0.5'); // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  if (m === null) return false;
  return m.slice(1).every((o) => Number(o) <= 255) && m[1] === '127';
}

/** Where an endpoint came from, for the message (`endpoint= URL parameter`, `STORAGE_EMULATOR_HOST`, ...). */
export interface EndpointCheck {
  /** The service opening the endpoint, for the error. */
  readonly service: Service;
  /** The provider, for the error. */
  readonly provider?: string | undefined;
  /** Where the endpoint was given, e.g. 'the endpoint option', 'PUBSUB_EMULATOR_HOST'. */
  readonly source: string;
  /**
   * The SDK reaches this endpoint without TLS whatever its scheme (the gRPC emulator modes of
   * Pub/Sub and Bigtable). Default: plain text exactly when the scheme is `http:`.
   */
  readonly plaintext?: boolean | undefined;
  /** The caller's `allowInsecureHttp` (option or URL parameter). */
  readonly allow?: boolean | undefined;
}

/**
 * Refuses a plain-text endpoint on a host other than this machine, so credentials and data do
 * not cross a network unencrypted by a typo or a stray variable: TLS is the default, loopback
 * emulators stay allowed, anything else needs `allowInsecureHttp: true` (option or URL
 * parameter) or POLYCLOUD_ALLOW_INSECURE_HTTP=true. `endpoint` is a URL or a gRPC `host:port`.
 * The message names the endpoint by scheme, host and port only (never user info, path or query,
 * where credentials and SAS tokens live).
 *
 * @example
 * checkEndpointTransport('http://10.0.0.5:9000', { service: 'blob', source: 'the endpoint option' }); // throws
 */
export function checkEndpointTransport(endpoint: string, check: EndpointCheck): void {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint);
  let url: URL;
  try {
    url = new URL(hasScheme ? endpoint : `grpc://${endpoint}`);
  } catch {
    // Not parseable: the adapter's own validation (or the SDK) reports it; nothing to judge here.
    return;
  }
  const plaintext = check.plaintext ?? url.protocol === 'http:';
  if (!plaintext || isLoopbackHost(url.hostname)) return;
  if (check.allow === true || envAllows()) return;
  const shown = hasScheme ? `${url.protocol}//${url.host}` : url.host;
  throw invalidArgument(
    `refusing the plain-text (no TLS) endpoint ${shown} from ${check.source}: it is not on this machine, so credentials and data would cross the network unencrypted. Use https://, a loopback address (127.0.0.1, ::1, localhost) for an emulator, or allow it explicitly with ${ALLOW_INSECURE_HTTP}=true in the URL (or the ${ALLOW_INSECURE_HTTP}: true option, or ${ALLOW_INSECURE_HTTP_ENV}=true)`,
    { service: check.service, operation: 'open', ...(check.provider ? { provider: check.provider } : {}) },
  );
}

function envAllows(): boolean {
  const v = process.env[ALLOW_INSECURE_HTTP_ENV]?.trim().toLowerCase();
  return v === 'true' || v === '1';
}
