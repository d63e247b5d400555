import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcError } from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmulatorGap } from '../../src/emulators/gaps.js';
import { emulatorStatus } from '../../src/emulators/index.js';
import { expectCode, expectUnsupported, runSuite, type TestCtx } from '../../src/index.js';

// Runs the real suite framework with a handful of synthetic tests and checks the report it
// writes (into a temporary root, never the repository's reports/).

const root = mkdtempSync(join(tmpdir(), 'polycloud-framework-'));
// The report names where moto came from in this run (a process, a container, a provided
// endpoint), or null when global setup started none (POLYCLOUD_EMULATORS without moto).
const motoSource = (() => {
  const s = emulatorStatus('moto')?.endpoint?.source;
  return s === undefined ? null : s === 'env' ? 'provided' : s;
})();
const gap: EmulatorGap = {
  id: 'fake/documented-gap',
  emulator: 'moto',
  tests: ['fails with a gap', 'passes despite a gap', 'times out with a gap'],
  description: 'a synthetic gap',
  reference: 'https://example.invalid/gap',
};
const findGap = (emulator: string | null, name: string) =>
  emulator === gap.emulator && gap.tests.includes(name) ? gap : undefined;
const cleaned: string[] = [];
let timedOutSignal: AbortSignal | undefined;

runSuite(
  { adapter: 'fake', emulator: 'moto', reportName: 'fake-blob' },
  'blob',
  (test) => {
    test('passes', async () => {});
    test('is unsupported', async (t) => {
      await expectUnsupported(t, 'someCapability', async () => {
        throw pcError('UNSUPPORTED', 'not here');
      });
    });
    test('fails with a gap', async () => {
      throw new Error('the emulator differs');
    });
    test('passes despite a gap', async () => {});
    test(
      'times out with a gap',
      async (t) => {
        timedOutSignal = t.signal;
        await new Promise((r) => setTimeout(r, 5_000));
      },
      { timeout: 200 },
    );
    test('runs deferred cleanup last-first', async (t) => {
      t.defer(() => cleaned.push('first registered'));
      t.defer(async () => {
        cleaned.push('second registered');
      });
      t.defer(() => {
        throw new Error('a failing cleanup does not fail the test');
      });
    });
  },
  { findGap, reportRoot: root },
);

runSuite(
  { adapter: 'fake', emulator: 'moto', reportName: 'fake-queue-not-run', notRun: 'moto is not installed' },
  'queue',
  (test) => {
    test('would fail if it ran', async () => {
      throw new Error('ran although notRun was set');
    });
    test('another', async () => {});
  },
  { findGap, reportRoot: root },
);

describe('conformance helpers', () => {
  const ctx = (): TestCtx & { marked: string[] } => {
    const marked: string[] = [];
    return {
      name: 'x',
      signal: new AbortController().signal,
      unsupported: (c) => marked.push(c),
      defer: () => {},
      marked,
    };
  };

  it('expectUnsupported marks the capability when the call is rejected with UNSUPPORTED', async () => {
    const t = ctx();
    await expectUnsupported(t, 'cap', async () => {
      throw pcError('UNSUPPORTED', 'no');
    });
    expect(t.marked).toEqual(['cap']);
  });

  it('expectUnsupported fails when the call succeeds', async () => {
    const t = ctx();
    await expect(expectUnsupported(t, 'cap', async () => 'ok')).rejects.toThrow(/succeeded/);
    expect(t.marked).toEqual([]);
  });

  it('expectUnsupported fails when the call did I/O first (CANCELLED by the aborted signal)', async () => {
    const t = ctx();
    const doesIoFirst = async (signal: AbortSignal) => {
      if (signal.aborted) throw pcError('CANCELLED', 'aborted');
    };
    await expect(expectUnsupported(t, 'cap', doesIoFirst)).rejects.toThrow(
      /before any I\/O, got PolycloudError CANCELLED/,
    );
  });

  it('expectCode accepts one of several codes and reports the actual one', async () => {
    await expectCode(
      ['NOT_FOUND', 'PRECONDITION_FAILED'],
      async () => {
        throw pcError('NOT_FOUND', 'gone');
      },
      'x',
    );
    await expect(
      expectCode(
        'NOT_FOUND',
        async () => {
          throw pcError('INTERNAL', 'boom');
        },
        'get',
      ),
    ).rejects.toThrow('get: expected NOT_FOUND, got PolycloudError INTERNAL: boom');
    await expect(expectCode('NOT_FOUND', async () => undefined, 'get')).rejects.toThrow(
      'but the call succeeded',
    );
  });
});

afterAll(() => {
  const report = JSON.parse(readFileSync(join(root, 'reports', 'conformance', 'fake-blob.json'), 'utf8'));
  expect(report).toEqual({
    adapter: 'fake',
    service: 'blob',
    emulator: 'moto',
    source: motoSource,
    tests: [
      { name: 'passes', outcome: 'passed', reason: null },
      { name: 'is unsupported', outcome: 'unsupported', reason: 'someCapability' },
      {
        name: 'fails with a gap',
        outcome: 'emulator-gap',
        reason: 'fake/documented-gap: https://example.invalid/gap',
      },
      { name: 'passes despite a gap', outcome: 'passed', reason: null },
      {
        name: 'times out with a gap',
        outcome: 'emulator-gap',
        reason: 'fake/documented-gap: https://example.invalid/gap',
      },
      { name: 'runs deferred cleanup last-first', outcome: 'passed', reason: null },
    ],
  });
  expect(cleaned).toEqual(['second registered', 'first registered']);
  expect(timedOutSignal?.aborted).toBe(true);
  const notRun = JSON.parse(
    readFileSync(join(root, 'reports', 'conformance', 'fake-queue-not-run.json'), 'utf8'),
  );
  expect(notRun).toEqual({
    adapter: 'fake',
    service: 'queue',
    emulator: 'moto',
    source: motoSource,
    tests: [
      { name: 'would fail if it ran', outcome: 'not-run', reason: 'moto is not installed' },
      { name: 'another', outcome: 'not-run', reason: 'moto is not installed' },
    ],
  });
});
