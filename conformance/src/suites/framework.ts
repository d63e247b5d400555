import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { findGap } from '../emulators/gaps.js';
import { PROVIDE_KEY } from '../emulators/provided.js';
import type { EmulatorId, EmulatorsContext } from '../emulators/types.js';
import type { HarnessInfo } from '../harness.js';
import {
  type BodyResult,
  buildReport,
  type ConformanceService,
  classify,
  errorReason,
  notRunReport,
  type ReportSource,
  type TestRecord,
  writeReport,
} from '../report.js';

/** What a conformance test body gets. */
export interface TestCtx {
  /** The test's stable name (the key of reports and the gap list). */
  readonly name: string;
  /** Aborted when the test runs out of time; long waits should honour it. */
  readonly signal: AbortSignal;
  /**
   * Marks the test `unsupported`: the capability is not declared and the test has checked that
   * using it is rejected with UNSUPPORTED. Use `expectUnsupported`, which calls this.
   */
  unsupported(capability: string): void;
  /** Runs `fn` after the test, whatever its outcome (last registered first). */
  defer(fn: () => unknown): void;
}

/** A conformance test: throws to fail, calls `t.unsupported` (via `expectUnsupported`) to be skipped. */
export type TestBody = (t: TestCtx) => Promise<void>;

/** Per-test options of `RegisterTest`. */
export interface TestOptions {
  /** Milliseconds the body may take (default 60 s); cleanup gets its own budget on top. */
  readonly timeout?: number;
}

/** Registers one conformance test. */
export type RegisterTest = (name: string, body: TestBody, opts?: TestOptions) => void;

const DEFAULT_TIMEOUT_MS = 60_000;
const CLEANUP_BUDGET_MS = 30_000;

/** The optional suite-wide setup and teardown a harness may have; `runSuite` runs them around the tests. */
export interface Hooks {
  /** Runs once before the suite's tests. */
  beforeAll?(): Promise<void>;
  /** Runs once after the suite's tests, whatever their outcome. */
  afterAll?(): Promise<void>;
}

/** Seams for the framework's own tests; suites never pass them. */
export interface SuiteOptions {
  /** Where documented emulator gaps come from (default: the gap list). */
  readonly findGap?: typeof findGap;
  /** Repository root the report goes under (default: found from the working directory). */
  readonly reportRoot?: string;
}

/** Where the emulator behind `id` came from in this run, per the harness's global setup. */
function emulatorSource(id: EmulatorId | null): ReportSource | null {
  if (id === null) return null;
  let ctx: EmulatorsContext | undefined;
  try {
    ctx = inject(PROVIDE_KEY);
  } catch {
    return null; // no global setup: nothing known
  }
  const source = ctx?.statuses.find((s) => s.id === id)?.endpoint?.source;
  if (source === undefined) return null;
  return source === 'env' ? 'provided' : source;
}

/**
 * Registers a suite: a `describe.concurrent` block whose tests record their outcome, and an
 * `afterAll` that writes the report. With `h.notRun` set, every test is registered skipped and
 * the report (all `not-run`) is written at once, because vitest runs no hooks in a skipped block.
 */
export function runSuite(
  h: HarnessInfo & Hooks,
  service: ConformanceService,
  register: (test: RegisterTest) => void,
  suiteOpts: SuiteOptions = {},
): void {
  const gapFor = suiteOpts.findGap ?? findGap;
  const tests: { name: string; body: TestBody; timeout: number }[] = [];
  const names = new Set<string>();
  register((name, body, opts) => {
    if (names.has(name))
      throw new Error(`conformance: duplicate test name "${name}" in the ${service} suite`);
    names.add(name);
    tests.push({ name, body, timeout: opts?.timeout ?? DEFAULT_TIMEOUT_MS });
  });
  const source = emulatorSource(h.emulator);
  // Container runs keep their own reports beside the process ones (e.g. aws-blob-container).
  const reportName = `${h.reportName ?? `${h.adapter}-${service}`}${source === 'container' ? '-container' : ''}`;
  const title = `${service} conformance [${reportName}]`;
  const order = tests.map((t) => t.name);

  if (h.notRun !== undefined) {
    const path = writeReport(
      notRunReport({
        adapter: h.adapter,
        service,
        emulator: h.emulator,
        source,
        names: order,
        reason: h.notRun,
        runtime: h.runtime,
      }),
      reportName,
      suiteOpts.reportRoot,
    );
    describe.skipIf(true)(`${title} — not run: ${h.notRun} (report: ${path})`, () => {
      for (const t of tests) it(t.name, () => {});
    });
    return;
  }

  describe.concurrent(title, () => {
    const records = new Map<string, TestRecord>();
    let setupError: unknown;

    beforeAll(async () => {
      try {
        await h.beforeAll?.();
      } catch (err) {
        // Every test then fails with this reason instead of vitest skipping them silently.
        setupError = err ?? new Error('beforeAll failed');
      }
    }, 300_000);

    afterAll(async () => {
      try {
        writeReport(
          buildReport({
            adapter: h.adapter,
            service,
            emulator: h.emulator,
            source,
            names: order,
            records,
            setupError,
            runtime: h.runtime,
          }),
          reportName,
          suiteOpts.reportRoot,
        );
      } finally {
        await h.afterAll?.();
      }
    }, 300_000);

    for (const t of tests) {
      it(
        t.name,
        async (vctx) => {
          const result = await runBody(t, setupError);
          const error = result.kind === 'error' ? result.error : undefined;
          const record = classify(
            t.name,
            result,
            result.kind === 'error' ? gapFor(h.emulator, t.name) : undefined,
          );
          records.set(t.name, record);
          if (record.outcome === 'unsupported')
            await vctx.annotate(`unsupported: ${record.reason}`, 'notice');
          if (record.outcome === 'emulator-gap') {
            await vctx.annotate(`emulator-gap ${record.reason} — ${errorReason(error)}`, 'warning');
          }
          if (record.outcome === 'failed') throw error;
        },
        t.timeout + CLEANUP_BUDGET_MS + 5_000,
      );
    }
  });
}

async function runBody(
  t: { name: string; body: TestBody; timeout: number },
  setupError: unknown,
): Promise<BodyResult> {
  const ac = new AbortController();
  const unsupported: string[] = [];
  const deferred: (() => unknown)[] = [];
  const ctx: TestCtx = {
    name: t.name,
    signal: ac.signal,
    unsupported(capability) {
      if (!unsupported.includes(capability)) unsupported.push(capability);
    },
    defer(fn) {
      deferred.push(fn);
    },
  };
  let timer: NodeJS.Timeout | undefined;
  let result: BodyResult;
  try {
    if (setupError !== undefined) throw new Error(`suite setup failed: ${errorReason(setupError)}`);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new Error(`"${t.name}" did not finish within ${t.timeout} ms`);
        ac.abort(e);
        reject(e);
      }, t.timeout);
    });
    await Promise.race([t.body(ctx), timeout]);
    result =
      unsupported.length > 0 ? { kind: 'unsupported', capability: unsupported.join(', ') } : { kind: 'ok' };
  } catch (error) {
    result = { kind: 'error', error };
  } finally {
    clearTimeout(timer);
  }
  await runDeferred(t.name, deferred);
  return result;
}

async function runDeferred(name: string, deferred: (() => unknown)[]): Promise<void> {
  for (const fn of deferred.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('cleanup timed out')), CLEANUP_BUDGET_MS / 2);
        }),
      ]);
    } catch (err) {
      // Cleanup is the harness's business; a failure there must not hide the test's own outcome.
      console.warn(`conformance: cleanup after "${name}" failed: ${errorReason(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
