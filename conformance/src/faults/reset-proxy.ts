import { connect, createServer, type Server, type Socket } from 'node:net';

/** Options of `startResetProxy`. */
export interface ResetProxyOptions {
  /** Where the emulator listens. */
  readonly target: { readonly host: string; readonly port: number };
  /** Share of answer chunks (≈ requests) cut off with a TCP reset, 0..1. Default 0.05. */
  readonly rate?: number;
  /**
   * Where to cut: `response` lets the request reach the emulator and resets the connection as
   * its answer comes back (the write landed, the client cannot know: the ambiguous case);
   * `request` resets before the request is forwarded; `both` picks one at random. Default both.
   */
  readonly mode?: 'response' | 'request' | 'both';
  /** Seed of the pseudo-random choices, so a failing run can be replayed. Default 1. */
  readonly seed?: number;
  /**
   * Answer chunks of each connection let through before any cut (default 0). gRPC sets up its
   * HTTP/2 session in the first few: sparing them keeps faults on calls, not on connecting.
   */
  readonly spareFirstChunks?: number;
}

/** A running proxy. */
export interface ResetProxy {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections reset so far, by where they were cut. */
  readonly resets: { request: number; response: number };
  /** Changes the rate for connections from now on (0 turns faults off). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/** mulberry32: small, seedable, good enough to pick faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reset(s: Socket): void {
  if (s.destroyed) return;
  // An RST, not a FIN: what a crashed middlebox or a dropped NAT entry looks like to a client.
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
  else s.destroy();
}

/**
 * A TCP proxy on 127.0.0.1 that resets a share of connections mid-request, between an adapter
 * and an emulator. Works for HTTP/1.1 and gRPC (HTTP/2) alike: it cuts on chunk boundaries, so
 * on a kept-alive connection the rate applies roughly per request.
 *
 * @example
 * const proxy = await startResetProxy({ target: { host: '127.0.0.1', port: 5000 }, rate: 0.05 });
 * const client = new DynamoDBClient({ endpoint: proxy.url });
 */
export async function startResetProxy(opts: ResetProxyOptions): Promise<ResetProxy> {
  let rate = opts.rate ?? 0.05;
  const mode = opts.mode ?? 'both';
  const random = prng(opts.seed ?? 1);
  const resets = { request: 0, response: 0 };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect(opts.target.port, opts.target.host);
    sockets.add(client);
    sockets.add(upstream);
    const cut = () => {
      reset(client);
      reset(upstream);
    };
    let answered = 0;
    const cutsHere = (where: 'request' | 'response') =>
      answered >= (opts.spareFirstChunks ?? 0) &&
      (mode === 'both' || mode === where) &&
      rate > 0 &&
      random() < (mode === 'both' ? rate / 2 : rate);
    client.on('data', (chunk) => {
      if (cutsHere('request')) {
        resets.request++;
        cut();
      } else if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk) => {
      answered++;
      if (cutsHere('response')) {
        resets.response++;
        cut();
      } else if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', () => {
        sockets.delete(s);
        cut();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('reset proxy: no TCP address');
  return {
    host: '127.0.0.1',
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    resets,
    setRate(r: number) {
      rate = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
