import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  type Bucket,
  isPolycloudError,
  type KvStore,
  type KvValue,
  type PortableOptions,
  type Queue,
} from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, FaultProxy, mulberry32 } from '../faults/proxy.js';
import { findRepoRoot } from '../report.js';

/** How the fault suite reaches one service through a proxy. */
export interface FaultService<R> {
  /** The emulator's `host:port` the proxy forwards to. */
  readonly upstream: string;
  /**
   * Creates a fresh resource (directly, not through the proxy) and opens it with the portable
   * API through `endpoint` (`127.0.0.1:port` of the proxy) with `opts`.
   */
  open(
    endpoint: string,
    opts: PortableOptions,
  ): Promise<{
    resource: R;
    /** Deletes the resource; the suite calls it once the probes are done, also after failures. */
    cleanup?: () => Promise<void>;
  }>;
}

/** Harness of the fault-injection suite for one emulator-backed adapter. */
export interface FaultHarness {
  readonly adapter: string;
  /** Emulator ids, for the report (e.g. 'moto', 'fake-gcs-server+pstest+bigtable-emulator'). */
  readonly emulator: string;
  readonly notRun?: string | undefined;
  readonly blob?: FaultService<Bucket>;
  readonly queue?: FaultService<Queue<unknown>>;
  readonly kv?: FaultService<KvStore<KvValue>>;
  /** Credentials that must never appear in an error message, toJSON() or inspect(). */
  readonly secrets?: readonly string[];
  /** Runs once before the suite (start the emulator, create shared resources). */
  beforeAll?(): Promise<void>;
  /** Runs once after the suite, even when probes failed. */
  afterAll?(): Promise<void>;
}

/** The outcome figures of one probe, as written to reports/reliability/<adapter>-<probe>.json. */
export interface ReliabilityReport {
  adapter: string;
  emulator: string;
  probe: string;
  load: string;
  faults: string[];
  lost: number;
  duplicated: number;
  partial: number;
  lostUpdates: number;
  nonPolycloudErrors: number;
  hangs: number;
  secretLeaks: number;
  seconds: number;
  /** Failures a probe saw that break its rule (wrong code, wrong retryable flag), by kind. */
  violations: string[];
}

/**
 * Writes one probe's figures to `reports/reliability/<adapter>-<probe>.json` under the repo root
 * (what the README's reliability table is built from); returns the file's path.
 */
export function writeReliabilityReport(r: ReliabilityReport, root = findRepoRoot()): string {
  const dir = join(root, 'reports', 'reliability');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.adapter}-${r.probe}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

/** Runs `f` over `items`, at most `limit` at a time. */
async function mapConcurrent<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

/** Per-attempt bound and retries the blackhole probe opens with; the bound below follows. */
const ATTEMPT_MS = 1000;
const ATTEMPTS = 2;
const BH_OPTS: PortableOptions = {
  attemptTimeoutMs: ATTEMPT_MS,
  retry: { maxAttempts: ATTEMPTS, initialDelayMs: 50, maxDelayMs: 100 },
};
/** Generous slack for a loaded 2-core machine: this detects hangs, it is not a speed check. */
const SLACK_MS = 5000;

type Outcome = {
  code: string;
  retryable: boolean | undefined;
  ms: number;
  polycloud: boolean;
  hung: boolean;
};

async function settle(
  p: () => Promise<unknown>,
  hangAfterMs: number,
  secrets: readonly string[],
  leaks: { n: number },
) {
  const t0 = performance.now();
  const HANG = Symbol('hang');
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p().then(
      () => ({ ok: true as const }),
      (e: unknown) => ({ ok: false as const, e }),
    ),
    new Promise<typeof HANG>((res) => {
      timer = setTimeout(() => res(HANG), hangAfterMs);
    }),
  ]);
  clearTimeout(timer);
  const ms = Math.round(performance.now() - t0);
  if (r === HANG)
    return { code: 'HANG', retryable: undefined, ms, polycloud: false, hung: true } satisfies Outcome;
  if (r.ok) return { code: 'OK', retryable: undefined, ms, polycloud: true, hung: false } satisfies Outcome;
  const e = r.e;
  leaks.n += countLeaks(e, secrets);
  return {
    code: isPolycloudError(e) ? e.code : `RAW ${String(e)}`,
    retryable: isPolycloudError(e) ? e.retryable : undefined,
    ms,
    polycloud: isPolycloudError(e),
    hung: false,
  } satisfies Outcome;
}

function countLeaks(e: unknown, secrets: readonly string[]): number {
  const real = secrets.filter((s) => s.length >= 8);
  if (real.length === 0) return 0;
  let text = '';
  try {
    text = `${String(e)}\n${JSON.stringify(e)}\n${inspect(e, { depth: 2 })}`;
  } catch {
    text = String(e);
  }
  return real.filter((s) => text.includes(s)).length;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Share of the full loads to run: POLYCLOUD_FAULT_LOAD=0.1 runs a tenth (a quick local check);
 * CI runs them whole (1, the default). Reports say what ran.
 */
const LOAD = Math.min(1, Math.max(0.01, Number(process.env.POLYCLOUD_FAULT_LOAD ?? 1) || 1));
const scaled = (n: number, min: number) => Math.max(min, Math.round(n * LOAD));
const MiB = 1024 * 1024;

/**
 * Fault injection through a TCP proxy on 127.0.0.1 between the adapter and its emulator.
 * Probes (each writes reports/reliability/<adapter>-<probe>.json):
 * - blackhole: every waiting operation (blob, queue incl. consume().stop(), kv, opening) ends in
 *   TIMEOUT within its bound with no signal and with a never-aborted caller signal, in
 *   CANCELLED on abort, and in TIMEOUT under a whole-call `timeoutMs`.
 * - read-resets: 2 MiB objects read through a proxy that resets half the connections after
 *   ~1 MiB: every read returns the exact bytes or fails UNAVAILABLE/TIMEOUT and retryable.
 * - queue-resets / kv-resets: sends and consume, and concurrent conditional writers, through a
 *   proxy that resets a share of connections: nothing acked is lost, no update is lost.
 */
export function faultSuite(h: FaultHarness): void {
  const d = h.notRun !== undefined ? describe.skip : describe;
  d(`fault injection [${h.adapter}/${h.emulator}]`, () => {
    const proxies: FaultProxy[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    const secrets = h.secrets ?? [];
    beforeAll(async () => h.beforeAll?.(), 120_000);
    afterAll(async () => {
      for (const c of cleanups) await c().catch(() => {});
      for (const p of proxies) await p.stop();
      await h.afterAll?.();
    }, 120_000);
    const proxyFor = async (upstream: string, seed = 1) => {
      const { host, port } = FaultProxy.parse(upstream);
      const p = await new FaultProxy(host, port, seed).start();
      proxies.push(p);
      return p;
    };
    async function openVia<R>(svc: FaultService<R>, opts: PortableOptions, seed = 1) {
      const proxy = await proxyFor(svc.upstream, seed);
      const { resource, cleanup } = await svc.open(proxy.hostPort, opts);
      if (cleanup) cleanups.push(cleanup);
      return { proxy, resource };
    }

    it('blackhole: every call ends in TIMEOUT within its bound, or CANCELLED on abort', async () => {
      const started = performance.now();
      const leaks = { n: 0 };
      const rows: (Outcome & { op: string; variant: string; bound: number })[] = [];
      type Call = { op: string; wait: number; run: (signal?: AbortSignal) => Promise<unknown> };
      const services: { calls: Call[]; setFault: (f: Fault) => void; total: () => Promise<Call[]> }[] = [];

      const build = async <R>(svc: FaultService<R> | undefined, calls: (r: R) => Call[]) => {
        if (!svc) return;
        const a = await openVia(svc, BH_OPTS);
        const total = async () => {
          const b = await openVia(svc, { timeoutMs: 5000, attemptTimeoutMs: 0, retry: { maxAttempts: 50 } });
          b.proxy.set({ kind: 'blackhole' });
          return calls(b.resource);
        };
        services.push({ calls: calls(a.resource), setFault: (f) => a.proxy.set(f), total });
      };
      await build(h.blob, (b) => [
        { op: 'blob.head', wait: 0, run: (signal) => b.head('k', signal ? { signal } : {}) },
        { op: 'blob.put', wait: 0, run: (signal) => b.put('k', 'v', signal ? { signal } : {}) },
        { op: 'blob.getBytes', wait: 0, run: (signal) => b.getBytes('k', signal ? { signal } : {}) },
        { op: 'blob.list', wait: 0, run: (signal) => b.list(signal ? { signal } : {}) },
      ]);
      await build(h.queue, (q) => [
        { op: 'queue.send', wait: 0, run: (signal) => q.send('x', signal ? { signal } : {}) },
        {
          op: 'queue.receive',
          wait: 1000,
          run: (signal) => q.receive({ waitSeconds: 1, ...(signal ? { signal } : {}) }),
        },
        {
          op: 'queue.consume.stop',
          wait: 0,
          run: async (signal) => {
            const c = q.consume(async () => {}, { waitSeconds: 1, ...(signal ? { signal } : {}) });
            await pause(1500);
            const t0 = performance.now();
            await c.stop();
            // stop() must return: a stop that waits for a blackholed call past its bound is a hang.
            if (performance.now() - t0 > ATTEMPT_MS * ATTEMPTS + SLACK_MS)
              throw new Error('stop() waited too long');
            throw Object.assign(new Error('stopped'), { stopped: true });
          },
        },
      ]);
      await build(h.kv, (kv) => [
        { op: 'kv.get', wait: 0, run: (signal) => kv.get('k', signal ? { signal } : {}) },
        { op: 'kv.set', wait: 0, run: (signal) => kv.set('k', 1, signal ? { signal } : {}) },
        { op: 'kv.list', wait: 0, run: (signal) => kv.list(signal ? { signal } : {}) },
      ]);
      for (const s of services) s.setFault({ kind: 'blackhole' });
      const jobs: Promise<void>[] = [];
      const record = (op: string, variant: string, bound: number, run: () => Promise<unknown>) =>
        jobs.push(
          settle(run, bound + 30_000, secrets, leaks).then((o) => {
            rows.push({ ...o, op, variant, bound });
          }),
        );
      for (const s of services) {
        for (const c of s.calls) {
          const bound =
            ATTEMPTS * (ATTEMPT_MS + c.wait) + 200 + SLACK_MS + (c.op.endsWith('stop') ? 1500 : 0);
          record(c.op, 'no signal', bound, () => c.run());
          record(c.op, 'caller signal never aborted', bound, () => c.run(new AbortController().signal));
          const ac = new AbortController();
          record(c.op, 'caller aborts at 300 ms', bound, () => {
            setTimeout(() => ac.abort(), 300);
            return c.run(ac.signal);
          });
        }
        const totalCalls = await s.total();
        for (const c of totalCalls) {
          if (c.op.endsWith('stop')) continue;
          record(c.op, 'timeoutMs 5000 (whole call)', 5000 + SLACK_MS, () => c.run());
        }
      }
      await Promise.all(jobs);
      const violations: string[] = [];
      for (const r of rows) {
        const want =
          r.op === 'queue.consume.stop'
            ? 'stopped'
            : r.variant.startsWith('caller aborts')
              ? 'CANCELLED'
              : 'TIMEOUT';
        const got = r.code;
        const ok =
          want === 'stopped'
            ? got.includes('stopped')
            : got === want && (want === 'CANCELLED' ? r.retryable === false : true) && r.ms <= r.bound;
        if (!ok)
          violations.push(
            `${r.op} [${r.variant}]: ${got} after ${r.ms} ms (want ${want} within ${r.bound} ms)`,
          );
      }
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'blackhole',
        load: `${rows.length} calls (${services.length} services × 3 signal variants + whole-call timeoutMs), attemptTimeoutMs ${ATTEMPT_MS}, ${ATTEMPTS} attempts`,
        faults: ['blackhole'],
        lost: 0,
        duplicated: 0,
        partial: 0,
        lostUpdates: 0,
        nonPolycloudErrors: rows.filter((r) => !r.polycloud && !r.hung && !r.code.includes('stopped')).length,
        hangs: rows.filter((r) => r.hung).length,
        secretLeaks: leaks.n,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations,
      };
      writeReliabilityReport(report);
      expect(violations).toEqual([]);
      expect(report.hangs).toBe(0);
      expect(report.secretLeaks).toBe(0);
    }, 180_000);

    it('blackhole: opening a queue with timeoutMs ends in TIMEOUT or opens without I/O', async () => {
      if (!h.queue) return;
      const proxy = await proxyFor(h.queue.upstream);
      proxy.set({ kind: 'blackhole' });
      const o = await settle(
        async () => {
          const { resource, cleanup } = await h.queue!.open(proxy.hostPort, { timeoutMs: 2000 });
          if (cleanup) cleanups.push(cleanup);
          await resource.close();
        },
        2000 + SLACK_MS + 30_000,
        secrets,
        { n: 0 },
      );
      expect(['OK', 'TIMEOUT']).toContain(o.code);
      expect(o.ms).toBeLessThan(2000 + SLACK_MS);
    }, 60_000);

    it('read-resets: reads cut mid-body return exact bytes or fail retryable, never hang', async () => {
      if (!h.blob) return;
      const started = performance.now();
      const leaks = { n: 0 };
      const OBJECTS = 12;
      const SIZE = 2 * 1024 * 1024;
      const { proxy, resource: b } = await openVia(
        h.blob,
        { idleTimeoutMs: 5000, attemptTimeoutMs: 10_000 },
        7,
      );
      const data = new Uint8Array(SIZE).map((_, i) => (i * 31 + 7) & 0xff);
      for (let i = 0; i < OBJECTS; i++) await b.put(`obj-${i}`, data);
      proxy.set({ kind: 'reset', direction: 'down', afterBytes: 1024 * 1024, probability: 0.5 });
      let partial = 0;
      const violations: string[] = [];
      const outcomes: Outcome[] = [];
      for (let i = 0; i < OBJECTS; i++) {
        let got: Uint8Array | undefined;
        const o = await settle(
          async () => {
            got = await b.getBytes(`obj-${i}`);
          },
          120_000,
          secrets,
          leaks,
        );
        outcomes.push(o);
        if (o.code === 'OK') {
          if (!got || got.byteLength !== SIZE || Buffer.compare(Buffer.from(got), Buffer.from(data)) !== 0) {
            partial++;
            const n = got?.byteLength ?? 0;
            let at = 0;
            while (at < n && got![at] === data[at]) at++;
            violations.push(`getBytes obj-${i}: returned ${n} bytes, first difference at byte ${at}`);
          }
        } else if (!(o.polycloud && o.retryable && ['UNAVAILABLE', 'TIMEOUT'].includes(o.code))) {
          violations.push(`getBytes obj-${i}: ${o.code} retryable=${o.retryable}`);
        }
      }
      proxy.set({ kind: 'pass' });
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'read-resets',
        load: `${OBJECTS} reads of 2 MiB; 50% of connections reset after 1 MiB downstream (seed 7)`,
        faults: ['reset-down-after-1MiB'],
        lost: 0,
        duplicated: 0,
        partial,
        lostUpdates: 0,
        nonPolycloudErrors: outcomes.filter((o) => !o.polycloud).length,
        hangs: outcomes.filter((o) => o.hung).length,
        secretLeaks: leaks.n,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations,
      };
      writeReliabilityReport(report);
      expect(report.partial).toBe(0);
      expect(report.hangs).toBe(0);
      expect(violations).toEqual([]);
      expect(proxy.stats.resets).toBeGreaterThan(0);
    }, 300_000);

    it('queue-resets: every acknowledged send is handled at least once through consume()', async () => {
      if (!h.queue) return;
      const started = performance.now();
      const leaks = { n: 0 };
      const MESSAGES = scaled(5000, 100);
      const { proxy, resource: q } = await openVia(h.queue, { attemptTimeoutMs: 10_000 }, 11);
      // Faults take turns: 2 s of 2% of response chunks cut mid-way (the request has landed,
      // the answer is lost: sent but unacknowledged, received but hidden), then 1 s of 5 ms
      // latency on every chunk. Open connections are kept across a switch (resets cut them).
      const RESETS: Fault = { kind: 'reset-chunk', direction: 'down', probability: 0.02 };
      const LATENCY: Fault = { kind: 'latency', ms: 5 };
      let flip: NodeJS.Timeout | undefined;
      const turn = (latency: boolean) => {
        proxy.set(latency ? LATENCY : RESETS, false);
        flip = setTimeout(() => turn(!latency), latency ? 1000 : 2000);
      };
      turn(false);
      const acked = new Set<number>();
      const errors: unknown[] = [];
      const handled = new Map<number, number>();
      // The consumer runs while the producers send, as a worker would.
      const c = q.consume(
        async (m) => {
          const n = (m.body as { n: number }).n;
          handled.set(n, (handled.get(n) ?? 0) + 1);
        },
        {
          // Receives take as many as the provider gives (SQS 10, Azure 32, Pub/Sub more).
          concurrency: 32,
          waitSeconds: 1,
          // Short, so messages hidden by a receive whose answer was cut come back soon.
          visibilityTimeoutSeconds: 10,
          onError: (e) => errors.push(e),
        },
      );
      const BATCH = 50;
      const PRODUCERS = 8;
      let next = 0;
      const producer = async () => {
        while (next < MESSAGES) {
          const from = next;
          next = Math.min(MESSAGES, next + BATCH);
          const batch = Array.from({ length: next - from }, (_, j) => ({ body: { n: from + j } }));
          const results = await q.sendBatch(batch).catch((e: unknown) => {
            errors.push(e);
            return [];
          });
          results.forEach((r, j) => {
            if (r.ok) acked.add(from + j);
            else errors.push(r.error);
          });
        }
      };
      await Promise.all(Array.from({ length: PRODUCERS }, producer));
      const sentAt = performance.now();
      const missing = () => [...acked].filter((n) => !handled.has(n));
      const deadline = Date.now() + 240_000;
      while (Date.now() < deadline && missing().length > 0) await pause(250);
      const handledAt = performance.now();
      clearTimeout(flip);
      const stopped = await settle(() => c.stop(), 60_000, secrets, leaks);
      proxy.set({ kind: 'pass' });
      // Whatever is still missing may be hidden by a receive whose answer was cut: drain past
      // the visibility timeout without faults before calling it lost.
      const drainUntil = Date.now() + 45_000;
      while (missing().length > 0 && Date.now() < drainUntil) {
        const ms = await q
          .receive({ maxMessages: q.capabilities.maxReceiveMessages, waitSeconds: 1 })
          .catch(() => []);
        for (const m of ms) {
          const n = (m.body as { n: number }).n;
          handled.set(n, (handled.get(n) ?? 0) + 1);
        }
        if (ms.length > 0) await q.ack(ms).catch(() => {});
      }
      const lost = missing().length;
      const duplicated = [...handled.values()].reduce((s, k) => s + k - 1, 0);
      const violations = errors
        .filter((e) => isPolycloudError(e) && !e.retryable && e.code !== 'NOT_FOUND')
        .map((e) => `not retryable under resets: ${(e as Error).message.slice(0, 160)}`);
      for (const e of errors) leaks.n += countLeaks(e, secrets);
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'queue-resets',
        load: `${MESSAGES} messages (${acked.size} acknowledged) sent by ${PRODUCERS} producers in batches of ${BATCH} while consume() (concurrency 32, visibility 10 s) handles them; faults take turns, 2 s of resets then 1 s of latency (seed 11); all sent after ${Math.round((sentAt - started) / 1000)} s, all handled after ${Math.round((handledAt - started) / 1000)} s${LOAD < 1 ? `; POLYCLOUD_FAULT_LOAD=${LOAD}` : ''}`,
        faults: ['reset-2%-of-response-chunks', 'latency-5ms'],
        lost,
        duplicated,
        partial: 0,
        lostUpdates: 0,
        nonPolycloudErrors: errors.filter((e) => !isPolycloudError(e)).length,
        hangs: stopped.hung ? 1 : 0,
        secretLeaks: leaks.n,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations: [...new Set(violations)],
      };
      writeReliabilityReport(report);
      expect(proxy.stats.resets).toBeGreaterThan(0);
      expect(report.lost).toBe(0);
      expect(report.hangs).toBe(0);
      expect(report.nonPolycloudErrors).toBe(0);
      expect(report.secretLeaks).toBe(0);
    }, 420_000);

    it('upload-resets: uploads of 1-16 MiB under resets are exact or leave the old state', async () => {
      if (!h.blob) return;
      const started = performance.now();
      const leaks = { n: 0 };
      const UPLOADS = scaled(200, 10);
      const ROUND = 10;
      const { proxy, resource: b } = await openVia(
        h.blob,
        { idleTimeoutMs: 10_000, attemptTimeoutMs: 30_000 },
        17,
      );
      const rng = mulberry32(17);
      // Sizes 1-16 MiB, log-uniform skewed small (16^(u^2): half below 2 MiB, a tenth above
      // 11 MiB; mean ~3.7 MiB), so the full load fits CI's time.
      const sizes = Array.from({ length: UPLOADS }, () => Math.floor(MiB * 16 ** (rng() ** 2)));
      const source = new Uint8Array(32 * MiB);
      for (let i = 0; i < source.length; i += 4) {
        const x = Math.floor(rng() * 2 ** 32);
        source[i] = x & 0xff;
        source[i + 1] = (x >>> 8) & 0xff;
        source[i + 2] = (x >>> 16) & 0xff;
        source[i + 3] = x >>> 24;
      }
      const bodyOf = (i: number) => {
        const at = Math.floor(rng() * (source.length - sizes[i]!));
        return source.subarray(at, at + sizes[i]!);
      };
      // Uneven chunks, as a file or network stream would hand them over.
      const streamOf = (data: Uint8Array) => {
        let at = 0;
        return new ReadableStream<Uint8Array>({
          pull(ctl) {
            if (at >= data.length) return ctl.close();
            const n = Math.min(data.length - at, 64 * 1024 + Math.floor(rng() * 700 * 1024));
            ctl.enqueue(data.slice(at, at + n));
            at += n;
          },
        });
      };
      const FAULT: Fault = { kind: 'reset-chunk', direction: 'both', probability: 0.002 };
      let ok = 0;
      let failed = 0;
      let landedButFailed = 0;
      let partial = 0;
      let knownLength = 0;
      const violations: string[] = [];
      const outcomes: Outcome[] = [];
      const same = (a: Uint8Array | undefined, e: Uint8Array | undefined) =>
        a !== undefined && e !== undefined && a.byteLength === e.byteLength && Buffer.compare(a, e) === 0;
      for (let first = 0; first < UPLOADS; first += ROUND) {
        const round = Array.from({ length: Math.min(ROUND, UPLOADS - first) }, (_, j) => first + j);
        // Half the keys hold an old version first: a failed upload must leave exactly it.
        proxy.set({ kind: 'pass' });
        const old = new Map<number, Uint8Array>();
        for (const i of round)
          if (i % 4 < 2) {
            const o = new TextEncoder().encode(`old version of up-${i}`);
            await b.put(`up-${i}`, o);
            old.set(i, o);
          }
        proxy.set(FAULT);
        const bodies = new Map(round.map((i) => [i, bodyOf(i)]));
        const acknowledged = new Set<number>();
        await mapConcurrent(round, 4, async (i) => {
          const data = bodies.get(i)!;
          const known = i % 2 === 0;
          if (known) knownLength++;
          const o = await settle(
            () => b.put(`up-${i}`, known ? data : streamOf(data)),
            300_000,
            secrets,
            leaks,
          );
          outcomes.push(o);
          if (o.code === 'OK') ok++;
          else {
            failed++;
            if (!(o.polycloud && o.retryable))
              violations.push(
                `put up-${i} (${sizes[i]} B, ${known ? 'known' : 'unknown'} length): ${o.code}`,
              );
          }
          if (o.code === 'OK') acknowledged.add(i);
        });
        proxy.set({ kind: 'pass' });
        for (const i of round) {
          const wanted = bodies.get(i)!;
          const got = await b.getBytes(`up-${i}`).catch((e: unknown) => {
            if (isPolycloudError(e, 'NOT_FOUND')) return undefined;
            throw e;
          });
          if (acknowledged.has(i)) {
            if (!same(got, wanted)) {
              partial++;
              violations.push(
                `up-${i}: acknowledged upload of ${wanted.byteLength} B reads back as ${got?.byteLength ?? 'nothing'}`,
              );
            }
          } else if (same(got, wanted)) {
            landedButFailed++; // the write landed, its answer was lost: new state, whole
          } else if (!(old.has(i) ? same(got, old.get(i)) : got === undefined)) {
            partial++;
            violations.push(
              `up-${i}: failed upload left ${got?.byteLength ?? 'nothing'} B, neither old nor new`,
            );
          }
          await b.delete(`up-${i}`).catch(() => {});
        }
      }
      proxy.set({ kind: 'pass' });
      const mib = sizes.reduce((s, n) => s + n, 0) / MiB;
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'upload-resets',
        load: `${UPLOADS} uploads of 1-16 MiB, log-uniform skewed small (${mib.toFixed(0)} MiB in all; ${knownLength} known length, ${UPLOADS - knownLength} streamed), 4 at a time, half over an old version; ${ok} succeeded, ${failed} failed (${landedButFailed} of them landed whole); each read back without faults (seed 17)${LOAD < 1 ? `; POLYCLOUD_FAULT_LOAD=${LOAD}` : ''}`,
        faults: ['reset-0.2%-of-chunks-both-ways'],
        lost: 0,
        duplicated: 0,
        partial,
        lostUpdates: 0,
        nonPolycloudErrors: outcomes.filter((o) => !o.polycloud && !o.hung).length,
        hangs: outcomes.filter((o) => o.hung).length,
        secretLeaks: leaks.n,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations,
      };
      writeReliabilityReport(report);
      expect(proxy.stats.resets).toBeGreaterThan(0);
      expect(report.partial).toBe(0);
      expect(report.hangs).toBe(0);
      expect(violations).toEqual([]);
    }, 900_000);

    it('kv-resets: concurrent ifVersion writers lose no update; landed writes are not reported as not written', async () => {
      if (!h.kv) return;
      const started = performance.now();
      const leaks = { n: 0 };
      const WRITERS = 20;
      const EACH = 5;
      const { proxy, resource: kv } = await openVia(h.kv, { attemptTimeoutMs: 10_000 }, 13);
      await kv.set('counter', 0);
      proxy.set({ kind: 'reset-chunk', direction: 'down', probability: 0.05 });
      let successes = 0;
      const errors: unknown[] = [];
      const writer = async () => {
        let done = 0;
        let tries = 0;
        while (done < EACH && tries++ < 400) {
          try {
            const cur = await kv.get('counter');
            if (!cur) throw new Error('counter vanished');
            await kv.set('counter', (cur.value as number) + 1, { ifVersion: cur.version });
            done++;
            successes++;
          } catch (e) {
            if (!isPolycloudError(e, 'PRECONDITION_FAILED')) errors.push(e);
          }
        }
      };
      const run = await settle(
        () => Promise.all(Array.from({ length: WRITERS }, writer)),
        240_000,
        secrets,
        leaks,
      );
      proxy.set({ kind: 'pass' });
      const final = (await kv.get('counter'))?.value as number;
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'kv-resets',
        load: `${WRITERS} concurrent writers × ${EACH} get + set(ifVersion) updates of one counter; 5% of response chunks reset (seed 13)`,
        faults: ['reset-5%-of-response-chunks'],
        lost: 0,
        // Writes that landed but were reported as failed (the writer then did them again).
        duplicated: Math.max(0, final - successes),
        partial: 0,
        lostUpdates: Math.max(0, successes - final),
        nonPolycloudErrors: errors.filter((e) => !isPolycloudError(e)).length,
        hangs: run.hung ? 1 : 0,
        secretLeaks: leaks.n + errors.reduce<number>((n, e) => n + countLeaks(e, secrets), 0),
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations: [
          ...new Set(
            errors
              .filter((e) => isPolycloudError(e) && !e.retryable)
              .map((e) => `not retryable under resets: ${(e as Error).message.slice(0, 160)}`),
          ),
        ],
      };
      writeReliabilityReport(report);
      expect(proxy.stats.resets).toBeGreaterThan(0);
      expect(report.lostUpdates).toBe(0);
      expect(report.hangs).toBe(0);
      expect(report.nonPolycloudErrors).toBe(0);
    }, 300_000);

    it('secrets: no error message, toJSON() or inspect() carries a credential or an Authorization header', async () => {
      const started = performance.now();
      const errors: unknown[] = [];
      // A customer encryption key is a secret too: every call that carried one is scanned for it.
      const customerKey = crypto.getRandomValues(new Uint8Array(32));
      const grab = async (f: () => Promise<unknown>) => {
        try {
          await f();
        } catch (e) {
          errors.push(e);
        }
      };
      if (h.blob) {
        const { resource: b } = await openVia(h.blob, {});
        await grab(() => b.head('missing'));
        await grab(() => b.getBytes('missing'));
        await b.put('k', 'v');
        await grab(() => b.put('k', 'v', { ifMatch: '"nope"' }));
        await grab(() => b.delete('k', { ifMatch: '"nope"' }));
        const encryption = { customerKey };
        if (b.capabilities.encryptionCustomerKey) {
          await grab(() => b.getBytes('missing', { encryption }));
          await grab(() => b.head('missing', { encryption }));
          await b.put('enc', 'v', { encryption });
          await grab(() => b.put('enc', 'v', { encryption, ifMatch: '"nope"' }));
          await grab(() => b.copy('missing', 'dst', { sourceEncryption: encryption, encryption }));
        } else {
          await grab(() => b.put('enc', 'v', { encryption }));
        }
      }
      if (h.queue) {
        const { proxy, resource: q } = await openVia(h.queue, {
          attemptTimeoutMs: 1000,
          retry: { maxAttempts: 1 },
        });
        proxy.set({ kind: 'reset-chunk', direction: 'down', probability: 1 });
        await grab(() => q.send('x'));
        await grab(() => q.receive({ waitSeconds: 1 }));
        proxy.set({ kind: 'pass' });
      }
      if (h.kv) {
        const { resource: kv } = await openVia(h.kv, {});
        await kv.set('k', 1);
        await grab(() => kv.set('k', 2, { ifVersion: 'nope' }));
        await grab(() => kv.set('k', 2, { ifAbsent: true }));
      }
      // What must never be shown: the harness's credentials, and any request signature.
      const patterns = [
        ...secrets
          .filter((x) => x.length >= 8)
          .map((x) => ({ label: 'a credential', test: (t: string) => t.includes(x) })),
        ...[Buffer.from(customerKey).toString('base64'), Buffer.from(customerKey).toString('hex')].map(
          (x) => ({
            label: 'a customer encryption key',
            test: (t: string) => t.includes(x),
          }),
        ),
        {
          label: 'an Authorization header',
          // SDKs that sanitise print it as REDACTED, which is fine.
          test: (t: string) => /authorization['"]?\s*[:=]\s*['"]?(?!REDACTED)\w/i.test(t),
        },
        {
          label: 'a SharedKey signature',
          test: (t: string) => /SharedKey(Lite)? [^:\s]+:[A-Za-z0-9+/=]{20,}/.test(t),
        },
        {
          label: 'a SAS or SigV4 signature',
          test: (t: string) => /(sig|X-Amz-Signature)=[A-Za-z0-9%+/=]{16,}/i.test(t),
        },
        { label: 'a session token', test: (t: string) => /x-amz-security-token['"]?\s*[:=]/i.test(t) },
      ];
      const leaks: string[] = [];
      for (const e of errors) {
        let text = `${String(e)}\n${(e as Error)?.stack ?? ''}`;
        try {
          text += `\n${JSON.stringify(e)}`;
        } catch {
          // toJSON that throws is a finding of its own, but not a leak
        }
        text += `\n${inspect(e, { depth: 6 })}`;
        for (const p of patterns)
          if (p.test(text)) leaks.push(`${(e as Error).message?.slice(0, 80)}: ${p.label}`);
      }
      const report: ReliabilityReport = {
        adapter: h.adapter,
        emulator: h.emulator,
        probe: 'secrets',
        load: `${errors.length} provoked errors (not found, failed conditions, cut connections), scanned as message, toJSON() and inspect(depth 6)`,
        faults: ['reset-every-response'],
        lost: 0,
        duplicated: 0,
        partial: 0,
        lostUpdates: 0,
        nonPolycloudErrors: errors.filter((e) => !isPolycloudError(e)).length,
        hangs: 0,
        secretLeaks: leaks.length,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        violations: [...new Set(leaks)],
      };
      writeReliabilityReport(report);
      expect(errors.length).toBeGreaterThan(0);
      expect(report.violations).toEqual([]);
      expect(report.nonPolycloudErrors).toBe(0);
    }, 120_000);
  });
}
