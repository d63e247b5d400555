/** A Response taken apart for a platform's response object. */
export interface ResponseParts {
  readonly status: number;
  readonly statusText: string;
  /** Every header but Set-Cookie, repeated names kept as separate entries. */
  readonly headers: readonly (readonly [string, string])[];
  /** Each Set-Cookie header value, in order. */
  readonly cookies: readonly string[];
  readonly body: Uint8Array;
}

/** Reads a Response whole: bindings answer platforms that take a complete body. */
export async function responseParts(res: Response): Promise<ResponseParts> {
  const headers: [string, string][] = [];
  res.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.push([name, value]);
  });
  const body = res.body === null ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    statusText: res.statusText,
    headers,
    cookies: res.headers.getSetCookie(),
    body,
  };
}

const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/**
 * Whether a body of this content type can travel as text in a JSON event response. Anything
 * else (or a body that is not valid UTF-8) is sent base64-encoded.
 */
export function isTextBody(contentType: string | null | undefined, body: Uint8Array): boolean {
  if (body.byteLength === 0) return true;
  if (!contentType || !TEXTUAL.test(contentType)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** Methods whose requests carry no body in the Fetch API. */
export function methodHasBody(method: string): boolean {
  const m = method.toUpperCase();
  return m !== 'GET' && m !== 'HEAD';
}
