import { urlBool } from '@polycloud/core/driver/base';

/**
 * `{ allowInsecureHttp }` from the URL parameter (which wins) or `driverOptions.allowInsecureHttp`,
 * or nothing when neither is given.
 */
export function allowInsecure(
  param: string | undefined,
  option: unknown,
  service: 'blob' | 'queue' | 'kv',
): { allowInsecureHttp?: boolean } {
  const v =
    urlBool(param, 'allowInsecureHttp', service) ?? (typeof option === 'boolean' ? option : undefined);
  return v === undefined ? {} : { allowInsecureHttp: v };
}

/**
 * The auth client for a gRPC emulator (Pub/Sub, Bigtable). The SDKs talk to an emulator without
 * credentials, but google-gax still asks the auth library for the universe domain, which without
 * Application Default Credentials probes the GCE metadata server and prints a
 * `MetadataLookupWarning` into every emulator user's output (and waits for the probe). This
 * client answers that question without a lookup; it is never used to sign a request, since the
 * SDKs send emulator calls over insecure channel credentials.
 */
export const emulatorAuthClient = Object.freeze({
  universeDomain: 'googleapis.com',
  getRequestHeaders: async () => new Headers(),
  getAccessToken: async () => ({ token: 'emulator' }),
});
