import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does to traffic; switch at any time with `set()`. */
export type Fault =
  | { readonly kind: 'pass' }
  /** Accepts connections and never answers: a dropped route, a dead host behind a NAT. */
  | { readonly kind: 'blackhole' }
  /** Adds `ms` before each chunk in both directions. */
  | { readonly kind: 'latency'; readonly ms: number }
  /** Caps each direction of each connection at `bytesPerSecond`. */
  | { readonly kind: 'bandwidth'; readonly bytesPerSecond: number }
  /**
   * Resets (TCP RST) a connection after `afterBytes` flowed server→client (`down`) or
   * client→server (`up`), for a `probability` share of connections.
   */
  | {
      readonly kind: 'reset';
      readonly direction: 'down' | 'up';
      readonly afterBytes: number;
      readonly probability: number;
      /** Adds up to this many bytes, at random per connection, to `afterBytes`. */
      readonly jitterBytes?: number;
    }
  /**
   * Resets a connection at a chunk of traffic (in `direction`) with `probability` per chunk:
   * the same fault rate whether the client pools connections or opens one per request.
   */
  | {
      readonly kind: 'reset-chunk';
      readonly direction: 'down' | 'up' | 'both';
      readonly probability: number;
      /**
       * Answer (server→client) chunks of each connection let through before any cut. gRPC sets
       * up its HTTP/2 session in the first few: sparing them keeps faults on calls, not on
       * connecting.
       */
      readonly spareFirstChunks?: number;
    };

/** Counters of what the proxy did. */
export interface ProxyStats {
  connections: number;
  resets: number;
  bytesDown: number;
  bytesUp: number;
}

/**
 * A TCP proxy on 127.0.0.1 between an adapter and its emulator that injects faults. Seeded
 * randomness decides which connections a `reset` fault hits, so a run can be replayed.
 */
export class FaultProxy {
  readonly stats: ProxyStats = { connections: 0, resets: 0, bytesDown: 0, bytesUp: 0 };
  private fault: Fault = { kind: 'pass' };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private rng: () => number;
  port = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
    seed = 1,
  ) {
    this.rng = mulberry32(seed);
    this.server = createServer((client) => this.accept(client));
  }

  /** `host:port` of the upstream, e.g. from an endpoint URL. */
  static parse(hostPort: string): { host: string; port: number } {
    const u = new URL(hostPort.includes('://') ? hostPort : `tcp://${hostPort}`);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  }

  /** Listens on an ephemeral port of 127.0.0.1 (read it from `hostPort`); returns this for chaining. */
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:<port>`, for SDKs that take an endpoint URL. */
  get url(): string {
    return `http://${this.hostPort}`;
  }

  /** Starts a proxy to `upstream` (`host:port` or a URL) on an ephemeral port of 127.0.0.1. */
  static async to(upstream: string, fault: Fault = { kind: 'pass' }, seed = 1): Promise<FaultProxy> {
    const { host, port } = FaultProxy.parse(upstream);
    const p = await new FaultProxy(host === 'localhost' ? '127.0.0.1' : host, port, seed).start();
    p.set(fault);
    return p;
  }

  /** Switches the fault; `dropExisting` resets open connections so pooled sockets feel it too. */
  set(fault: Fault, dropExisting = true): void {
    this.fault = fault;
    if (dropExisting) for (const s of this.sockets) s.resetAndDestroy();
  }

  /** Destroys every proxied connection and closes the listener. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private track(s: Socket) {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    this.track(client);
    const fault = this.fault;
    if (fault.kind === 'blackhole') {
      client.pause(); // hold the connection open, read nothing, answer nothing
      return;
    }
    const upstream = connect(this.upstreamPort, this.upstreamHost);
    this.track(upstream);
    const doomed = fault.kind === 'reset' && this.rng() < fault.probability;
    const limit =
      fault.kind === 'reset' ? fault.afterBytes + Math.floor(this.rng() * (fault.jitterBytes ?? 0)) : 0;
    let down = 0;
    let up = 0;
    let answered = 0;
    let cut = false;
    const reset = () => {
      this.stats.resets++;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const pipe = (from: Socket, to: Socket, dir: 'down' | 'up') => {
      let queue = Promise.resolve();
      from.on('data', (chunk: Buffer) => {
        const f = this.fault;
        if (f.kind === 'blackhole') return; // swallowed
        if (dir === 'down') this.stats.bytesDown += chunk.length;
        else this.stats.bytesUp += chunk.length;
        if (cut) return; // the reset is under way: nothing more may pass
        if (dir === 'down') answered++;
        if (
          f.kind === 'reset-chunk' &&
          (f.direction === dir || f.direction === 'both') &&
          answered > (f.spareFirstChunks ?? 0) &&
          this.rng() < f.probability
        ) {
          cut = true;
          const keep = Math.floor(this.rng() * chunk.length);
          if (keep > 0) to.write(chunk.subarray(0, keep));
          setImmediate(reset);
          return;
        }
        if (doomed && fault.kind === 'reset' && fault.direction === dir) {
          const seen = dir === 'down' ? down : up;
          if (seen + chunk.length >= limit) {
            cut = true;
            const keep = Math.max(0, limit - seen);
            if (keep > 0) to.write(chunk.subarray(0, keep));
            setImmediate(reset);
            return;
          }
        }
        if (dir === 'down') down += chunk.length;
        else up += chunk.length;
        if (f.kind === 'latency' || f.kind === 'bandwidth') {
          from.pause();
          const wait = f.kind === 'latency' ? f.ms : Math.ceil((chunk.length / f.bytesPerSecond) * 1000);
          queue = queue.then(
            () =>
              new Promise<void>((r) =>
                setTimeout(() => {
                  if (!to.destroyed) to.write(chunk);
                  from.resume();
                  r();
                }, wait),
              ),
          );
          return;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => void queue.then(() => to.end()));
      from.on('close', () => {
        if (!to.destroyed) to.destroy();
      });
    };
    pipe(client, upstream, 'up');
    pipe(upstream, client, 'down');
  }
}

/** A small seeded PRNG: the same seed picks the same connections. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
