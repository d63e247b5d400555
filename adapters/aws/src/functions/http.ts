import {
  describeEvent,
  type FunctionContext,
  type HttpFunction,
  invalidEvent,
  invokeHttp,
  isTextBody,
  methodHasBody,
  responseParts,
} from '@polycloud/core';
import type {
  ApiGatewayV1Event,
  ApiGatewayV1Result,
  ApiGatewayV2Event,
  ApiGatewayV2Result,
} from './events.js';

const BINDING = '@polycloud/aws/functions (HTTP)';

/** The HTTP event shapes Lambda delivers: API Gateway REST (v1), HTTP API / function URL (v2), ALB. */
export type HttpEventKind = 'v1' | 'v2' | 'alb';

/** Which HTTP payload an event is, or undefined when it is none of them. */
export function httpEventKind(event: unknown): HttpEventKind | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as Record<string, unknown>;
  if (e.version === '2.0' && typeof e.rawPath === 'string') return 'v2';
  if (typeof e.httpMethod === 'string' && typeof e.path === 'string') {
    const rc = e.requestContext as Record<string, unknown> | undefined;
    return rc && typeof rc.elb === 'object' ? 'alb' : 'v1';
  }
  return undefined;
}

function host(headers: Headers): string {
  return headers.get('host') ?? 'lambda.invalid';
}

function proto(headers: Headers): string {
  return headers.get('x-forwarded-proto') ?? 'https';
}

function bodyOf(
  body: string | null | undefined,
  base64: boolean | undefined,
): Uint8Array<ArrayBuffer> | undefined {
  if (body === null || body === undefined) return undefined;
  return Uint8Array.from(Buffer.from(body, base64 ? 'base64' : 'utf8'));
}

/** A path as the URL needs it: without its leading "/" it would run into the host name. */
function rooted(path: string | undefined): string {
  const p = typeof path === 'string' ? path : '';
  return p.startsWith('/') ? p : `/${p}`;
}

/** API Gateway v1 / ALB event → Request. ALB query values arrive still URL-encoded; API Gateway's are decoded. */
export function requestFromV1(e: ApiGatewayV1Event, kind: 'v1' | 'alb'): Request {
  const headers = new Headers();
  if (e.multiValueHeaders) {
    for (const [k, vs] of Object.entries(e.multiValueHeaders)) for (const v of vs ?? []) headers.append(k, v);
  } else if (e.headers) {
    for (const [k, v] of Object.entries(e.headers)) if (v !== undefined) headers.append(k, v);
  }
  const query = new URLSearchParams();
  const decode = (s: string) => (kind === 'alb' ? decodeURIComponent(s.replace(/\+/g, ' ')) : s);
  if (e.multiValueQueryStringParameters) {
    for (const [k, vs] of Object.entries(e.multiValueQueryStringParameters))
      for (const v of vs ?? []) query.append(decode(k), decode(v));
  } else if (e.queryStringParameters) {
    for (const [k, v] of Object.entries(e.queryStringParameters))
      if (v !== undefined) query.append(decode(k), decode(v));
  }
  const qs = query.toString();
  const url = `${proto(headers)}://${host(headers)}${rooted(e.path)}${qs ? `?${qs}` : ''}`;
  const body = methodHasBody(e.httpMethod) ? bodyOf(e.body, e.isBase64Encoded) : undefined;
  return new Request(url, { method: e.httpMethod, headers, ...(body !== undefined ? { body } : {}) });
}

/** HTTP API v2 / function URL event → Request. Cookies arrive apart from the headers. */
export function requestFromV2(e: ApiGatewayV2Event): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(e.headers ?? {})) if (v !== undefined) headers.set(k, v);
  if (e.cookies && e.cookies.length > 0) headers.set('cookie', e.cookies.join('; '));
  if (!headers.has('host') && e.requestContext.domainName) headers.set('host', e.requestContext.domainName);
  const method = e.requestContext.http.method;
  const url = `${proto(headers)}://${host(headers)}${rooted(e.rawPath)}${e.rawQueryString ? `?${e.rawQueryString}` : ''}`;
  const body = methodHasBody(method) ? bodyOf(e.body, e.isBase64Encoded) : undefined;
  return new Request(url, { method, headers, ...(body !== undefined ? { body } : {}) });
}

async function encodeBody(res: Response) {
  const parts = await responseParts(res);
  const contentType = res.headers.get('content-type');
  const text = isTextBody(contentType, parts.body);
  return {
    parts,
    body: text ? Buffer.from(parts.body).toString('utf8') : Buffer.from(parts.body).toString('base64'),
    isBase64Encoded: !text,
  };
}

/** Response → API Gateway v1 / ALB result. Multi-value headers carry repeats and every Set-Cookie. */
export async function resultV1(
  res: Response,
  kind: 'v1' | 'alb',
  multiValue: boolean,
): Promise<ApiGatewayV1Result> {
  const { parts, body, isBase64Encoded } = await encodeBody(res);
  const out: ApiGatewayV1Result = { statusCode: parts.status, body, isBase64Encoded };
  if (kind === 'alb') out.statusDescription = `${parts.status} ${parts.statusText || 'Status'}`;
  if (multiValue) {
    const mv: Record<string, string[]> = {};
    for (const [k, v] of parts.headers) {
      const list = mv[k] ?? [];
      list.push(v);
      mv[k] = list;
    }
    if (parts.cookies.length > 0) mv['set-cookie'] = [...parts.cookies];
    out.multiValueHeaders = mv;
  } else {
    // Without multi-value headers, one value per name is all the platform carries: the last cookie wins.
    const h: Record<string, string> = {};
    for (const [k, v] of parts.headers) h[k] = h[k] === undefined ? v : `${h[k]}, ${v}`;
    const last = parts.cookies.at(-1);
    if (last !== undefined) h['set-cookie'] = last;
    out.headers = h;
  }
  return out;
}

/** Response → HTTP API v2 / function URL result, cookies in `cookies`. */
export async function resultV2(res: Response): Promise<ApiGatewayV2Result> {
  const { parts, body, isBase64Encoded } = await encodeBody(res);
  const headers: Record<string, string> = {};
  for (const [k, v] of parts.headers) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  return {
    statusCode: parts.status,
    headers,
    ...(parts.cookies.length > 0 ? { cookies: [...parts.cookies] } : {}),
    body,
    isBase64Encoded,
  };
}

/**
 * A Request from an event, or INVALID_ARGUMENT when the event holds what a Request cannot
 * carry (a path without its leading "/" that makes the URL invalid, a method or header value
 * with forbidden characters): the platforms never send these, a hand-made test event can.
 */
function buildRequest(event: unknown, build: () => Request): Request {
  try {
    return build();
  } catch (err) {
    throw invalidEvent(
      BINDING,
      `event (${describeEvent(event)})`,
      `cannot be turned into a Request (${err instanceof Error ? err.message : String(err)}); check its path, method and headers`,
    );
  }
}

/** Runs an HTTP function for any of the four HTTP event payloads. */
export async function handleHttpEvent(
  fn: HttpFunction,
  event: unknown,
  ctx: FunctionContext,
): Promise<ApiGatewayV1Result | ApiGatewayV2Result> {
  const kind = httpEventKind(event);
  if (kind === undefined) {
    throw invalidEvent(
      BINDING,
      `event (${describeEvent(event)})`,
      'is not an API Gateway REST (v1), HTTP API / function URL (v2) or ALB request; wire this function to an HTTP trigger',
    );
  }
  if (kind === 'v2') {
    const req = buildRequest(event, () => requestFromV2(event as ApiGatewayV2Event));
    return resultV2(await invokeHttp(fn, req, ctx));
  }
  const e = event as ApiGatewayV1Event;
  const req = buildRequest(event, () => requestFromV1(e, kind));
  // ALB answers in the form it was asked in; API Gateway v1 accepts multi-value headers always.
  const multi = kind === 'v1' || e.multiValueHeaders != null;
  return resultV1(await invokeHttp(fn, req, ctx), kind, multi);
}
