import type { Cookie } from '@azure/functions';

/**
 * A Set-Cookie header value as the Azure Functions `Cookie` object: the host takes cookies only
 * through `HttpResponseInit.cookies` (headers carry one value per name).
 */
export function parseSetCookie(header: string): Cookie {
  const [pair = '', ...attrs] = header.split(';');
  const eq = pair.indexOf('=');
  const cookie: Cookie = {
    name: (eq >= 0 ? pair.slice(0, eq) : pair).trim(),
    value: eq >= 0 ? pair.slice(eq + 1).trim() : '',
  };
  for (const a of attrs) {
    const i = a.indexOf('=');
    const k = (i >= 0 ? a.slice(0, i) : a).trim().toLowerCase();
    const v = i >= 0 ? a.slice(i + 1).trim() : '';
    if (k === 'domain') cookie.domain = v;
    else if (k === 'path') cookie.path = v;
    else if (k === 'expires') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) cookie.expires = new Date(t);
    } else if (k === 'max-age') {
      const n = Number(v);
      if (Number.isFinite(n)) cookie.maxAge = n;
    } else if (k === 'secure') cookie.secure = true;
    else if (k === 'httponly') cookie.httpOnly = true;
    else if (k === 'samesite') {
      const s = v.toLowerCase();
      cookie.sameSite = s === 'strict' ? 'Strict' : s === 'none' ? 'None' : 'Lax';
    }
  }
  return cookie;
}
