/**
 * Readiness probes: one real protocol request each. A probe resolves when the emulator answered
 * the way only that emulator would, and rejects otherwise (connection refused, wrong answer,
 * timeout); the supervisor calls it again until the deadline.
 */
import http from 'node:http';
import http2 from 'node:http2';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

/** One HTTP/1.1 request without keep-alive (no pooled socket outlives the probe). */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? 2_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Fails unless `check` accepts the response; the message says what came back. */
export async function expectHttp(
  url: string,
  check: (res: HttpResponse) => boolean,
  options: HttpRequestOptions = {},
): Promise<void> {
  const res = await httpRequest(url, options);
  if (!check(res)) {
    throw new Error(`unexpected answer from ${url}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }
}

/** Protobuf encoding of a message whose only set field is string field 1 (e.g. `parent`, `project`). */
export function protoStringField1(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const len: number[] = [];
  let n = bytes.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...len]), bytes]);
}

/**
 * One unary gRPC call over plain-text HTTP/2; resolves with the grpc-status code (0 = OK).
 * `path` is '/package.Service/Method'; `message` the encoded request.
 */
export function grpcUnaryStatus(
  address: string,
  path: string,
  message: Buffer,
  timeoutMs = 2_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    let settled = false;
    const finish = (err: Error | null, code?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      session.destroy();
      if (err) reject(err);
      else resolve(code ?? -1);
    };
    const timer = setTimeout(() => finish(new Error(`gRPC ${path} on ${address} timed out`)), timeoutMs);
    session.on('error', (err) => finish(err));
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const statusOf = (headers: http2.IncomingHttpHeaders): number | undefined => {
      const s = headers['grpc-status'];
      return typeof s === 'string' ? Number(s) : undefined;
    };
    req.on('response', (headers) => {
      // A trailers-only response carries grpc-status in the headers.
      const code = statusOf(headers);
      if (code !== undefined) finish(null, code);
    });
    req.on('trailers', (trailers) => finish(null, statusOf(trailers) ?? -1));
    req.on('error', (err) => finish(err));
    req.on('close', () => finish(new Error(`gRPC ${path} on ${address}: stream closed without grpc-status`)));
    req.on('data', () => {});
    req.end(frame);
  });
}

/** Fails unless the unary call returns grpc-status 0. */
export async function expectGrpcOk(address: string, path: string, message: Buffer): Promise<void> {
  const code = await grpcUnaryStatus(address, path, message);
  if (code !== 0) throw new Error(`gRPC ${path} on ${address} answered grpc-status ${code}`);
}
