import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcError } from '@polycloud/core';
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  classify,
  errorReason,
  findRepoRoot,
  notRunReport,
  readReport,
  reportPath,
  safeReportName,
  writeReport,
} from '../../src/index.js';

const gap = {
  id: 'moto/x',
  emulator: 'moto' as const,
  tests: ['t'],
  description: 'd',
  reference: 'https://example.invalid/x',
};

describe('classify', () => {
  it('passed has a null reason', () => {
    expect(classify('t', { kind: 'ok' }, undefined)).toEqual({ name: 't', outcome: 'passed', reason: null });
  });
  it('a passing test with a gap entry is passed', () => {
    expect(classify('t', { kind: 'ok' }, gap).outcome).toBe('passed');
  });
  it('unsupported names the capability', () => {
    expect(classify('t', { kind: 'unsupported', capability: 'putIfMatch' }, undefined)).toEqual({
      name: 't',
      outcome: 'unsupported',
      reason: 'putIfMatch',
    });
  });
  it('a failure with a gap is emulator-gap with the gap id and reference', () => {
    expect(classify('t', { kind: 'error', error: new Error('x') }, gap)).toEqual({
      name: 't',
      outcome: 'emulator-gap',
      reason: 'moto/x: https://example.invalid/x',
    });
  });
  it('a failure without a gap is failed with the error', () => {
    const r = classify(
      't',
      { kind: 'error', error: pcError('NOT_FOUND', 'head on blob "b": missing') },
      undefined,
    );
    expect(r).toEqual({ name: 't', outcome: 'failed', reason: 'NOT_FOUND: head on blob "b": missing' });
  });
});

describe('errorReason', () => {
  it('keeps the first non-empty line and bounds the length', () => {
    expect(errorReason(new Error('\nfirst line\nsecond'))).toBe('first line');
    expect(errorReason(new Error('x'.repeat(2000))).length).toBe(500);
    expect(errorReason('plain string')).toBe('plain string');
    expect(errorReason(undefined)).toBe('undefined');
  });
});

describe('buildReport', () => {
  const records = new Map([
    ['b', { name: 'b', outcome: 'passed' as const, reason: null }],
    ['a', { name: 'a', outcome: 'unsupported' as const, reason: 'ttl' }],
  ]);
  it('keeps registration order and leaves out tests that never ran', () => {
    const r = buildReport({ adapter: 'x', service: 'kv', emulator: null, names: ['a', 'c', 'b'], records });
    expect(r.tests.map((t) => t.name)).toEqual(['a', 'b']);
    expect(r).toMatchObject({ adapter: 'x', service: 'kv', emulator: null });
  });
  it('reports tests that could not run because setup failed as failed', () => {
    const r = buildReport({
      adapter: 'x',
      service: 'kv',
      emulator: 'azurite',
      names: ['a', 'c'],
      records,
      setupError: new Error('table creation failed'),
    });
    expect(r.tests[1]).toEqual({
      name: 'c',
      outcome: 'failed',
      reason: 'suite setup failed: table creation failed',
    });
  });
  it('notRunReport marks every test not-run with the reason', () => {
    const r = notRunReport({
      adapter: 'gcp',
      service: 'queue',
      emulator: 'pstest',
      names: ['a', 'b'],
      reason: 'pstest missing',
    });
    expect(r.tests).toEqual([
      { name: 'a', outcome: 'not-run', reason: 'pstest missing' },
      { name: 'b', outcome: 'not-run', reason: 'pstest missing' },
    ]);
  });
});

describe('report files', () => {
  it('findRepoRoot walks up to the package.json with workspaces', () => {
    const root = mkdtempSync(join(tmpdir(), 'polycloud-root-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'r', workspaces: ['a/*'] }));
    const pkg = join(root, 'a', 'pkg');
    mkdirSync(join(pkg, 'test'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pkg' }));
    expect(findRepoRoot(join(pkg, 'test'))).toBe(root);
    expect(findRepoRoot(root)).toBe(root);
  });

  it('findRepoRoot finds this repository from the working directory', () => {
    const root = findRepoRoot();
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces).toBeDefined();
  });

  it('safeReportName keeps usable names and rejects empty ones', () => {
    expect(safeReportName('aws-queue-elasticmq')).toBe('aws-queue-elasticmq');
    expect(safeReportName('a b/c')).toBe('a-b-c');
    expect(() => safeReportName('..')).toThrow();
    expect(() => safeReportName('///')).toThrow();
  });

  it('writes and reads back a report under reports/conformance', () => {
    const root = mkdtempSync(join(tmpdir(), 'polycloud-reports-'));
    const report = notRunReport({
      adapter: 'aws',
      service: 'blob',
      emulator: 'moto',
      names: ['t'],
      reason: 'r',
    });
    const path = writeReport(report, 'aws-blob', root);
    expect(path).toBe(reportPath('aws-blob', root));
    expect(path).toBe(join(root, 'reports', 'conformance', 'aws-blob.json'));
    expect(readReport(path)).toEqual(report);
  });

  it('readReport rejects malformed files', () => {
    const root = mkdtempSync(join(tmpdir(), 'polycloud-bad-'));
    const bad = join(root, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ adapter: 'x', service: 'blob', tests: [{ name: 't', outcome: 'maybe' }] }),
    );
    expect(() => readReport(bad)).toThrow(/malformed/);
  });
});
