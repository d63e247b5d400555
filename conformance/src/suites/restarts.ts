import {
  type Bucket,
  isPolycloudError,
  type KvStore,
  type KvValue,
  type PortableOptions,
  type Queue,
} from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type PrivateEmulator, parseSelection, startPrivateEmulator } from '../emulators/supervisor.js';
import type { EmulatorId } from '../emulators/types.js';
import { type ReliabilityReport, writeReliabilityReport } from './faults.js';

/** One service on a restarted emulator: a fresh resource opened with the portable API. */
export interface RestartService<R> {
  /**
   * Creates a fresh resource on the emulator described by `env` (its SDK variables) and opens it
   * with `opts`. `recreate` makes the same resource again after an in-memory emulator forgot it.
   */
  open(
    env: Readonly<Record<string, string>>,
    opts: PortableOptions,
  ): Promise<{
    resource: R;
    /** Makes the resource again (after an in-memory emulator forgot it on restart). */
    recreate(): Promise<void>;
  }>;
}

/** An emulator the restart suite starts on its own, loads, restarts on the same ports, and checks. */
export interface RestartTarget {
  readonly emulator: EmulatorId;
  /**
   * The emulator keeps state on disk (started with `persistent`): everything acknowledged
   * before and during the restart must be there after it. Otherwise it starts empty, and the
   * suite only requires that calls fail retryably while it is down and work again after.
   */
  readonly durable: boolean;
  readonly blob?: RestartService<Bucket>;
  readonly queue?: RestartService<Queue<unknown>>;
  readonly kv?: RestartService<KvStore<KvValue>>;
}

/** Harness of the restart suite for one adapter family. */
export interface RestartHarness {
  readonly adapter: string;
  readonly targets: readonly RestartTarget[];
}

/** Generous: this detects hangs, it is no speed check. */
const HANG_MS = 60_000;
/** Short attempts and a retry budget that spans the downtime: a call may ride it out. */
const OPTS: PortableOptions = {
  attemptTimeoutMs: 5000,
  retry: { maxAttempts: 4, initialDelayMs: 200, maxDelayMs: 1000 },
};
const DOWN_MS = 2000;

type Phase = 'before' | 'down' | 'recreating' | 'after';
type Call = {
  phase: Phase;
  ok: boolean;
  code: string;
  retryable?: boolean;
  polycloud: boolean;
  hung: boolean;
};

async function attempt(f: () => Promise<unknown>, phase: () => Phase): Promise<Call> {
  const at = phase();
  let timer: NodeJS.Timeout | undefined;
  const HANG = Symbol('hang');
  try {
    const r = await Promise.race([
      f(),
      new Promise((res) => {
        timer = setTimeout(() => res(HANG), HANG_MS);
      }),
    ]);
    if (r === HANG) return { phase: at, ok: false, code: 'HANG', polycloud: false, hung: true };
    return { phase: at, ok: true, code: 'OK', polycloud: true, hung: false };
  } catch (e) {
    // Attribute a failure to the worst phase it overlapped: a call started before the stop
    // and failed during it is a downtime failure.
    const end = phase();
    const worst = at === 'before' && end !== 'before' ? end : at;
    return isPolycloudError(e)
      ? { phase: worst, ok: false, code: e.code, retryable: e.retryable, polycloud: true, hung: false }
      : { phase: worst, ok: false, code: `RAW ${String(e).slice(0, 120)}`, polycloud: false, hung: false };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Emulator restarts mid-load. Each target's emulator is started by the suite itself (so other
 * test files keep theirs), loaded through the portable API, stopped, kept down ~2 s, and
 * started again on the same ports; the same Bucket/Queue/KvStore objects are used throughout,
 * never reopened. Checks, written to reports/reliability/<adapter>-restart-<emulator>.json:
 * - every call ends (no hang); every failure is a PolycloudError; failures while the emulator
 *   is down are retryable (UNAVAILABLE/TIMEOUT); after the restart the same objects work;
 * - durable emulators (state on disk): every write acknowledged before or during the restart
 *   is still there afterwards (lost = 0); queues deliver every acknowledged send.
 * - in-memory emulators forget everything: the resource is made again after the restart
 *   (NOT_FOUND is expected only until then), and writes acknowledged afterwards are all there.
 */
export function restartSuite(h: RestartHarness): void {
  const selection = parseSelection(process.env.POLYCLOUD_EMULATORS);
  for (const t of h.targets) {
    const selected = selection.ids.includes(t.emulator);
    const d = selected ? describe : describe.skip;
    d(`emulator restart [${h.adapter}/${t.emulator}${t.durable ? ', on disk' : ', in memory'}]`, () => {
      let handle: PrivateEmulator | undefined;
      afterAll(async () => handle?.stop(), 60_000);

      it('restarts mid-load: calls fail retryably or ride it out, nothing hangs, the same objects work after', async () => {
        const started = performance.now();
        try {
          handle = await startPrivateEmulator(t.emulator, {
            persistent: t.durable,
            logName: `${t.emulator}-restart`,
          });
        } catch (e) {
          // POLYCLOUD_EMULATORS=optional: an emulator that is not installed is "not run".
          if (selection.optional) return;
          throw e;
        }
        const e = handle.env;
        let phase: Phase = 'before';
        const now = () => phase;
        const calls: Call[] = [];
        // Writes acknowledged, by service: what must be found afterwards (durable), or what was
        // acknowledged after the restart (in memory).
        const ackedKv = new Map<string, { value: number; phase: Phase }>();
        const ackedBlob = new Map<string, { body: string; phase: Phase }>();
        const ackedMsgs = new Map<number, Phase>();
        const recreates: (() => Promise<void>)[] = [];
        const kv = t.kv ? await t.kv.open(e, OPTS) : undefined;
        const blob = t.blob ? await t.blob.open(e, OPTS) : undefined;
        const queue = t.queue ? await t.queue.open(e, OPTS) : undefined;
        for (const s of [kv, blob, queue]) if (s) recreates.push(s.recreate);
        let seq = 0;
        let running = true;
        const writer = async (w: number) => {
          while (running) {
            const n = seq++;
            const jobs: Promise<void>[] = [];
            if (kv)
              jobs.push(
                attempt(() => kv.resource.set(`k${w}`, n), now).then((c) => {
                  calls.push(c);
                  if (c.ok) ackedKv.set(`k${w}`, { value: n, phase: c.phase });
                }),
              );
            if (blob)
              jobs.push(
                attempt(() => blob.resource.put(`b${n}`, `body ${n}`), now).then((c) => {
                  calls.push(c);
                  if (c.ok) ackedBlob.set(`b${n}`, { body: `body ${n}`, phase: c.phase });
                }),
              );
            if (queue)
              jobs.push(
                attempt(() => queue.resource.send({ n }), now).then((c) => {
                  calls.push(c);
                  if (c.ok) ackedMsgs.set(n, c.phase);
                }),
              );
            await Promise.all(jobs);
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        const writers = Array.from({ length: 4 }, (_, w) => writer(w));
        await new Promise((r) => setTimeout(r, 2000));
        phase = 'down';
        await handle.restart({ downMs: DOWN_MS });
        if (!t.durable) {
          phase = 'recreating';
          for (const r of recreates) await r();
        }
        phase = 'after';
        await new Promise((r) => setTimeout(r, 3000));
        running = false;
        await Promise.all(writers);

        // Afterwards, with the same objects: every acknowledged write that must survive is there.
        const mustSurvive = (p: Phase) => t.durable || p === 'after';
        let lost = 0;
        const violations: string[] = [];
        if (kv) {
          for (const [k, { value, phase: p }] of ackedKv) {
            if (!mustSurvive(p)) continue;
            const got = await kv.resource.get(k);
            // Later failed writes of the same key may have landed (outcome unknown): a newer value is fine.
            if (!got || (got.value as number) < value) {
              lost++;
              violations.push(`kv ${k}: acknowledged ${value}, found ${got ? String(got.value) : 'nothing'}`);
            }
          }
        }
        if (blob) {
          for (const [k, { body, phase: p }] of ackedBlob) {
            if (!mustSurvive(p)) continue;
            const got = await blob.resource.getBytes(k).catch(() => undefined);
            if (!got || new TextDecoder().decode(got) !== body) {
              lost++;
              violations.push(`blob ${k}: acknowledged, found ${got ? `${got.byteLength} B` : 'nothing'}`);
            }
          }
        }
        let duplicated = 0;
        if (queue) {
          const seen = new Map<number, number>();
          const wanted = [...ackedMsgs].filter(([, p]) => mustSurvive(p)).map(([n]) => n);
          const until = Date.now() + 30_000;
          while (wanted.some((n) => !seen.has(n)) && Date.now() < until) {
            const ms = await queue.resource.receive({ maxMessages: 10, waitSeconds: 1 });
            for (const m of ms) {
              const n = (m.body as { n: number }).n;
              seen.set(n, (seen.get(n) ?? 0) + 1);
            }
            if (ms.length > 0) await queue.resource.ack(ms);
          }
          const missing = wanted.filter((n) => !seen.has(n));
          lost += missing.length;
          if (missing.length) violations.push(`queue: ${missing.length} acknowledged sends never delivered`);
          duplicated = [...seen.values()].reduce((s, k) => s + k - 1, 0);
        }
        for (const c of calls) {
          if (c.ok || c.hung || !c.polycloud) continue;
          const allowed =
            !t.durable && (c.phase === 'down' || c.phase === 'recreating')
              ? // an in-memory emulator answers, empty, as soon as it is up: the resource is
                // missing until it is made again
                c.code === 'NOT_FOUND' || c.retryable === true
              : c.retryable === true;
          if (!allowed) violations.push(`${c.phase}: ${c.code} retryable=${c.retryable}`);
        }
        const after = calls.filter((c) => c.phase === 'after');
        if (!after.some((c) => c.ok)) violations.push('no call succeeded after the restart');
        const count = (p: Phase) => calls.filter((c) => c.phase === p).length;
        const failedDown = calls.filter((c) => c.phase === 'down' && !c.ok).length;
        const services = [kv && 'kv', blob && 'blob', queue && 'queue'].filter(Boolean).join('+');
        const report: ReliabilityReport = {
          adapter: h.adapter,
          emulator: t.emulator,
          probe: `restart-${t.emulator}`,
          load: `${calls.length} calls (${services}) by 4 writers: ${count('before')} before, ${count('down')} during (${failedDown} failed), ${count('after')} after a ${DOWN_MS / 1000} s restart on the same ports; ${t.durable ? 'state on disk: every acknowledged write checked' : 'in memory: resources made again, writes acknowledged after the restart checked'}`,
          faults: [t.durable ? 'restart (SIGTERM, on-disk state)' : 'restart (SIGTERM, state reset)'],
          lost,
          duplicated,
          partial: 0,
          lostUpdates: 0,
          nonPolycloudErrors: calls.filter((c) => !c.ok && !c.polycloud && !c.hung).length,
          hangs: calls.filter((c) => c.hung).length,
          secretLeaks: 0,
          seconds: Math.round((performance.now() - started) / 100) / 10,
          violations: [...new Set(violations)],
        };
        writeReliabilityReport(report);
        expect(report.hangs).toBe(0);
        expect(report.nonPolycloudErrors).toBe(0);
        expect(report.violations).toEqual([]);
        expect(report.lost).toBe(0);
      }, 240_000);
    });
  }
}
