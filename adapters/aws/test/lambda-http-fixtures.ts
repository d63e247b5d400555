/**
 * Builds Lambda HTTP events from a Web Request the way each AWS front end does, and turns the
 * function's result back into the Response the client would see. Shapes follow the AWS Lambda
 * developer guide: "Working with HTTP API payload format 2.0" (also Lambda function URLs),
 * "API Gateway REST API Lambda proxy integration (payload 1.0)" with binary media types "*\/*",
 * and "Using Lambda with an Application Load Balancer" with multi-value headers enabled.
 */
import type { ApiGatewayV1Result, ApiGatewayV2Result } from '@polycloud/aws/functions';

export type HttpFormat = 'v2' | 'v1' | 'alb';

function isText(contentType: string | null, body: Uint8Array): boolean {
  if (!contentType || !/^(text\/|application\/json)/.test(contentType)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

export async function requestToEvent(req: Request, format: HttpFormat, requestId: string): Promise<unknown> {
  const url = new URL(req.url);
  const bytes = new Uint8Array(await req.arrayBuffer());
  const hasBody = bytes.byteLength > 0;
  const text = isText(req.headers.get('content-type'), bytes);
  const body = hasBody ? Buffer.from(bytes).toString(text ? 'utf8' : 'base64') : undefined;
  const multi: Record<string, string[]> = {};
  req.headers.forEach((v, k) => {
    // Headers joins repeats with ", "; the front ends see them as separate lines.
    multi[k] = k === 'cookie' ? [v] : v.split(', ');
  });
  if (!multi.host) multi.host = [url.host];
  if (format === 'v2') {
    const headers: Record<string, string> = {};
    for (const [k, vs] of Object.entries(multi)) if (k !== 'cookie') headers[k] = vs.join(',');
    const cookies = req.headers.get('cookie')?.split('; ');
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(cookies ? { cookies } : {}),
      headers,
      requestContext: {
        accountId: 'anonymous',
        apiId: 'fnurl',
        domainName: url.host,
        http: {
          method: req.method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test',
        },
        requestId,
        routeKey: '$default',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      ...(body !== undefined ? { body } : {}),
      isBase64Encoded: hasBody && !text,
    };
  }
  const mvq: Record<string, string[]> = {};
  if (format === 'alb') {
    // ALB passes query names and values on as they were sent (still percent-encoded).
    for (const part of url.search.slice(1).split('&').filter(Boolean)) {
      const [k = '', v = ''] = part.split('=');
      push(mvq, k, v);
    }
  } else {
    for (const [k, v] of url.searchParams) push(mvq, k, v);
  }
  const last = (o: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(o).map(([k, vs]) => [k, vs[vs.length - 1]!]));
  const base = {
    httpMethod: req.method,
    path: url.pathname,
    multiValueHeaders: multi,
    multiValueQueryStringParameters: Object.keys(mvq).length > 0 ? mvq : null,
    body: body ?? null,
    isBase64Encoded: hasBody && !text,
  };
  if (format === 'alb') {
    return {
      requestContext: {
        elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fn/1' },
      },
      ...base,
    };
  }
  return {
    resource: '/{proxy+}',
    ...base,
    headers: last(multi),
    queryStringParameters: Object.keys(mvq).length > 0 ? last(mvq) : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId, stage: 'test', httpMethod: req.method, path: url.pathname },
  };
}

function push(o: Record<string, string[]>, k: string, v: string) {
  const list = o[k] ?? [];
  list.push(v);
  o[k] = list;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

export function resultToResponse(result: unknown): Response {
  const r = result as ApiGatewayV1Result & Partial<ApiGatewayV2Result>;
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers ?? {})) headers.set(k, v);
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) {
    headers.delete(k);
    for (const v of vs) headers.append(k, v);
  }
  for (const c of r.cookies ?? []) headers.append('set-cookie', c);
  const body = Buffer.from(r.body ?? '', r.isBase64Encoded ? 'base64' : 'utf8');
  return new Response(NULL_BODY.has(r.statusCode) ? null : body, { status: r.statusCode, headers });
}
