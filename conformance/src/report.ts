import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { EmulatorGap } from './emulators/gaps.js';
import type { EmulatorId } from './emulators/types.js';

/** The services a conformance report covers. */
export type ConformanceService = 'blob' | 'queue' | 'kv' | 'functions';

/**
 * What happened to one conformance test:
 * - `passed`: the behaviour the contract asks for was observed.
 * - `failed`: it was not (the vitest test fails too).
 * - `unsupported`: the adapter does not declare the capability the test needs, and the suite
 *   checked that using it is rejected with UNSUPPORTED before any I/O. `reason` names the capability.
 * - `emulator-gap`: the test failed against an emulator, and the gap list documents why the
 *   emulator differs from the real service. `reason` carries the gap id and its reference.
 * - `not-run`: the emulator could not be had (the harness set `notRun`); `reason` says why.
 */
export type TestOutcome = 'passed' | 'failed' | 'unsupported' | 'emulator-gap' | 'not-run';

/** Every `TestOutcome`, in report order, for code that counts or validates them. */
export const TEST_OUTCOMES: readonly TestOutcome[] = [
  'passed',
  'failed',
  'unsupported',
  'emulator-gap',
  'not-run',
];

/** One test's line in a conformance report. */
export interface TestRecord {
  readonly name: string;
  readonly outcome: TestOutcome;
  /** null for `passed`; the capability, gap, failure message or not-run reason otherwise. */
  readonly reason: string | null;
}

/**
 * Where the emulator behind a report came from: started as a local `process`, started in a
 * `container` (testcontainers), or `provided` by the environment (a variable named a running one).
 * null when there is no emulator (memory, local).
 */
export type ReportSource = 'process' | 'container' | 'provided';

/** The JSON written to reports/conformance/<reportName>.json. */
export interface ConformanceReport {
  readonly adapter: string;
  readonly service: ConformanceService;
  readonly emulator: EmulatorId | null;
  /** Where the code under test ran, when that is not plain Node (functions: "lambda-rie", "library-level"). */
  readonly runtime?: string;
  /** Absent in reports written before the field existed. */
  readonly source?: ReportSource | null;
  readonly tests: readonly TestRecord[];
}

/** How one test body ended, before the gap list is consulted. */
export type BodyResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'unsupported'; readonly capability: string }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * Turns how a test body ended into its report record. A failure excused by an emulator gap is
 * `emulator-gap` (and does not fail vitest); a test with a gap entry that passes is `passed`.
 */
export function classify(name: string, result: BodyResult, gap: EmulatorGap | undefined): TestRecord {
  switch (result.kind) {
    case 'ok':
      return { name, outcome: 'passed', reason: null };
    case 'unsupported':
      return { name, outcome: 'unsupported', reason: result.capability };
    case 'error':
      if (gap !== undefined) return { name, outcome: 'emulator-gap', reason: gapReason(gap) };
      return { name, outcome: 'failed', reason: errorReason(result.error) };
  }
}

/** `"<gap id>: <reference>"` — the form matrix.mjs and readers expect. */
export function gapReason(gap: Pick<EmulatorGap, 'id' | 'reference'>): string {
  return `${gap.id}: ${gap.reference}`;
}

/** A one-line description of a failure: the error's code (where it has one) and message. */
export function errorReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === 'string' && code.length > 0 ? `${code}: ` : '';
    const first = `${prefix}${error.message}`.split('\n').find((l) => l.trim().length > 0) ?? error.name;
    return truncate(first.trim(), 500);
  }
  return truncate(String(error), 500);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * The records of one suite run, in registration order. Tests that never ran (filtered out with
 * `-t`, or the run was interrupted) have no record and are left out; tests that did not run
 * because suite setup failed are reported `failed` with the setup error.
 */
export function buildReport(opts: {
  adapter: string;
  service: ConformanceService;
  emulator: EmulatorId | null;
  source?: ReportSource | null;
  names: readonly string[];
  records: ReadonlyMap<string, TestRecord>;
  setupError?: unknown;
  runtime?: string | undefined;
}): ConformanceReport {
  const tests: TestRecord[] = [];
  for (const name of opts.names) {
    const r = opts.records.get(name);
    if (r !== undefined) tests.push(r);
    else if (opts.setupError !== undefined) {
      tests.push({ name, outcome: 'failed', reason: `suite setup failed: ${errorReason(opts.setupError)}` });
    }
  }
  return {
    adapter: opts.adapter,
    service: opts.service,
    emulator: opts.emulator,
    ...(opts.runtime !== undefined ? { runtime: opts.runtime } : {}),
    source: opts.source ?? null,
    tests,
  };
}

/** Every test reported `not-run` with `reason` (the harness set `notRun`). */
export function notRunReport(opts: {
  adapter: string;
  service: ConformanceService;
  emulator: EmulatorId | null;
  source?: ReportSource | null;
  names: readonly string[];
  reason: string;
  runtime?: string | undefined;
}): ConformanceReport {
  return {
    adapter: opts.adapter,
    service: opts.service,
    emulator: opts.emulator,
    ...(opts.runtime !== undefined ? { runtime: opts.runtime } : {}),
    source: opts.source ?? null,
    tests: opts.names.map((name) => ({ name, outcome: 'not-run' as const, reason: opts.reason })),
  };
}

/**
 * The repository root: the nearest directory at or above `from` whose package.json declares
 * `workspaces`. Falls back to `from` itself when there is none (a suite run outside a monorepo).
 */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown };
        if (json.workspaces !== undefined) return dir;
      } catch {
        // An unreadable package.json is not the root; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/** A report file stem: letters, digits, '.', '_' and '-' only. */
export function safeReportName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  if (s.length === 0 || s === '.' || s === '..') throw new Error(`"${name}" is not usable as a report name`);
  return s;
}

/** Where the report for `reportName` goes: <root>/reports/conformance/<reportName>.json. */
export function reportPath(reportName: string, root: string = findRepoRoot()): string {
  return join(root, 'reports', 'conformance', `${safeReportName(reportName)}.json`);
}

/** Writes a report atomically (temp file, then rename) and returns its path. */
export function writeReport(report: ConformanceReport, reportName: string, root?: string): string {
  const path = reportPath(reportName, root);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/** Reads and checks a report file; throws with the path when it is malformed. */
export function readReport(path: string): ConformanceReport {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConformanceReport>;
  if (
    typeof json.adapter !== 'string' ||
    (json.service !== 'blob' &&
      json.service !== 'queue' &&
      json.service !== 'kv' &&
      json.service !== 'functions') ||
    !Array.isArray(json.tests)
  ) {
    throw new Error(`${path} is not a conformance report`);
  }
  for (const t of json.tests) {
    if (typeof t?.name !== 'string' || !TEST_OUTCOMES.includes(t.outcome)) {
      throw new Error(`${path}: malformed test entry ${JSON.stringify(t)}`);
    }
  }
  return json as ConformanceReport;
}
