import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One HTTP request as it went over the wire to the emulator. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** Header names lower-case. */
  readonly headers: IncomingHttpHeaders;
}

/** A running recording proxy: `url` stands in for the emulator's endpoint. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request forwarded so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Forgets the requests recorded so far. */
  clear(): void;
  /** Stops the proxy and drops its open connections. */
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 reverse proxy on 127.0.0.1 that forwards every request to `target` (only `Host`
 * rewritten to the target's, as a direct client would send it) and
 * records its method, path and headers. For checks of what an adapter really sends where an
 * emulator accepts and ignores a header (encryption keys, for one), so a test can tell "sent
 * and ignored" from "never sent".
 *
 * @example
 * const proxy = await startRecordingProxy('http://127.0.0.1:4566');
 * // point the adapter at proxy.url, run calls, then inspect proxy.requests
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers } });
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: Number(to.port || 80),
        method: req.method,
        path: req.url,
        // As if sent to the emulator directly: some route by Host (fake-gcs-server's XML API).
        headers: { ...req.headers, host: to.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    clear: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
