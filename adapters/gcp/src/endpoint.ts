import { urlBool } from '@polycloud/core/driver';

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
