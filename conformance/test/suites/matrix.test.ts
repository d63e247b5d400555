import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as matrix from '../../../scripts/matrix.mjs';

const script = fileURLToPath(new URL('../../../scripts/matrix.mjs', import.meta.url));

type Outcome = 'passed' | 'failed' | 'unsupported' | 'emulator-gap' | 'not-run';
const rep = (
  reportName: string,
  adapter: string,
  emulator: string | null,
  tests: [string, Outcome, string | null][],
) => ({
  reportName,
  adapter,
  service: 'blob',
  emulator,
  tests: tests.map(([name, outcome, reason]) => ({ name, outcome, reason })),
});

const reports = [
  rep('memory-blob', 'memory', null, [
    ['put', 'passed', null],
    ['signed GET', 'unsupported', 'signedUrlMethods:GET'],
    ['range | pipe', 'passed', null],
  ]),
  rep('aws-blob', 'aws', 'moto', [
    ['put', 'passed', null],
    ['signed GET', 'emulator-gap', 'moto/presign: https://example.invalid'],
    ['range | pipe', 'failed', 'boom'],
  ]),
  rep('gcp-blob', 'gcp', 'fake-gcs-server', [
    ['put', 'not-run', 'no emulator'],
    ['signed GET', 'not-run', 'no emulator'],
    ['range | pipe', 'not-run', 'no emulator'],
  ]),
];

describe('matrix.mjs', () => {
  it('counts outcomes per report', () => {
    expect(matrix.counts(reports[1]!)).toEqual({
      passed: 1,
      unsupported: 0,
      'emulator-gap': 1,
      failed: 1,
      'not-run': 0,
    });
  });

  it('derives capability rows from unsupported reasons', () => {
    expect(matrix.capabilityRows(reports)).toEqual([
      { capability: 'signedUrlMethods:GET', cells: ['➖', '⚠️', '·'] },
    ]);
    expect(matrix.capabilitiesOf('a, b')).toEqual(['a', 'b']);
    expect(matrix.capabilitiesOf(null)).toEqual([]);
  });

  it('renders the summary, capability and per-test tables', () => {
    const md: string = matrix.renderMatrix(matrix.sortReports(reports));
    expect(md).toContain('| `memory-blob` | memory | blob | — | — | 2 | 1 | 0 | 0 | 0 | 3 |');
    expect(md).toContain('| `aws-blob` | aws | blob | moto | — | 1 | 0 | 1 | 1 | 0 | 3 |');
    expect(md).toContain('| **passed / applicable** | 2/2 | 1/3 | · |');
    expect(md).toContain('| range \\| pipe | ✅ | ❌ | · |');
    expect(md).toContain('| signed GET | ➖ | ⚠️ | · |');
    expect(md).toContain('- moto: moto/presign: https://example.invalid (signed GET)');
    expect(md).toContain('Failing: 1');
    expect(md.indexOf('memory-blob')).toBeLessThan(md.indexOf('aws-blob'));
  });

  it('shows where the emulator came from (process, container, provided)', () => {
    const fromContainer = { ...reports[1]!, reportName: 'aws-blob-container', source: 'container' };
    const md: string = matrix.renderMatrix(matrix.sortReports([fromContainer]));
    expect(md).toContain('| `aws-blob-container` | aws | blob | moto | container | 1 | 0 | 1 | 1 | 0 | 3 |');
    expect(md).toContain('aws-blob-container<br><sub>moto, container</sub>');
  });

  it('says what to do when there are no reports', () => {
    expect(matrix.renderMatrix([])).toMatch(/No conformance reports yet/);
  });

  it('replaces only the marked block', () => {
    const text = `# T\n\n${matrix.START}\nold\n${matrix.END}\n\nafter\n`;
    expect(matrix.replaceBlock(text, 'new')).toBe(`# T\n\n${matrix.START}\nnew\n${matrix.END}\n\nafter\n`);
    expect(() => matrix.replaceBlock('# no markers', 'x')).toThrow(/no <!-- matrix:start -->/);
  });

  it('loads, validates and sorts report files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'polycloud-matrix-'));
    for (const r of reports) {
      const { reportName, ...json } = r;
      writeFileSync(join(dir, `${reportName}.json`), JSON.stringify(json));
    }
    const loaded = matrix.loadReports(dir);
    expect(loaded.map((r: { reportName: string }) => r.reportName)).toEqual([
      'memory-blob',
      'aws-blob',
      'gcp-blob',
    ]);
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ adapter: 'x' }));
    expect(() => matrix.loadReports(dir)).toThrow(/broken.json: not a conformance report/);
  });

  it('--write updates README.md and --check notices when it is stale', () => {
    const dir = mkdtempSync(join(tmpdir(), 'polycloud-matrix-cli-'));
    const reportsDir = join(dir, 'reports');
    mkdirSync(reportsDir);
    const { reportName, ...json } = reports[0]!;
    writeFileSync(join(reportsDir, `${reportName}.json`), JSON.stringify(json));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, `# R\n${matrix.START}\nstale\n${matrix.END}\n`);
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [script, ...args, '--reports', reportsDir, '--readme', readme], {
        encoding: 'utf8',
      });
    expect(() => run('--check')).toThrow();
    run('--write');
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain('`memory-blob`');
    expect(text.startsWith('# R\n<!-- matrix:start -->\n')).toBe(true);
    expect(text.endsWith('<!-- matrix:end -->\n')).toBe(true);
    run('--check');
    expect(run()).toContain('#### Summary');
  });
});
