#!/usr/bin/env node
/**
 * Builds the reliability table from the fault-injection reports.
 *
 *   node scripts/reliability.mjs            print the Markdown to stdout
 *   node scripts/reliability.mjs --write    replace the block between <!-- reliability:start -->
 *                                           and <!-- reliability:end --> in README.md
 *   node scripts/reliability.mjs --check    exit 1 when README.md's block is out of date
 *   options: --reports <dir> (default reports/reliability), --readme <file> (default README.md)
 *
 * Reports are what conformance's faultSuite writes, one per adapter and probe:
 *   { adapter, emulator, probe, load, faults, lost, duplicated, partial, lostUpdates,
 *     nonPolycloudErrors, hangs, secretLeaks, seconds, violations }
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from './matrix.mjs';
import { alignMarkdownTables } from './md-table.mjs';

export const START = '<!-- reliability:start -->';
export const END = '<!-- reliability:end -->';
const ADAPTER_ORDER = ['memory', 'local', 'aws', 'gcp', 'azure'];
const FIGURES = [
  'lost',
  'duplicated',
  'partial',
  'lostUpdates',
  'nonPolycloudErrors',
  'hangs',
  'secretLeaks',
];

/** @param {string} dir */
export function readReports(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

/** @param {any[]} reports */
export function renderTable(reports) {
  if (reports.length === 0)
    return 'No reliability reports yet: run the fault suites (`*/test/faults.conformance.test.ts`).';
  const rank = (a) => ADAPTER_ORDER.indexOf(a) + 1 || 99;
  const rows = [...reports].sort(
    (a, b) =>
      rank(a.adapter) - rank(b.adapter) ||
      a.adapter.localeCompare(b.adapter) ||
      a.probe.localeCompare(b.probe),
  );
  const lines = [
    'Each row is one probe of the fault-injection suite (a TCP proxy on 127.0.0.1 between adapter and emulator). ' +
      'Figures must be 0; "violations" counts surfaced errors with the wrong code or retryable flag, or calls past their bound.',
    '',
    `| adapter | emulator | probe | load | ${FIGURES.join(' | ')} | violations | seconds |`,
    `|${' --- |'.repeat(FIGURES.length + 6)}`,
  ];
  for (const r of rows) {
    const cells = FIGURES.map((f) => (r[f] === 0 ? '0' : `**${r[f]}**`));
    const v = (r.violations ?? []).length;
    lines.push(
      `| ${r.adapter} | ${r.emulator} | ${r.probe} | ${String(r.load).replace(/\|/g, '/')} | ${cells.join(' | ')} | ${v === 0 ? '0' : `**${v}**`} | ${r.seconds} |`,
    );
  }
  return alignMarkdownTables(lines.join('\n'));
}

function main(argv) {
  const arg = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const root = findRepoRoot();
  const reports = readReports(resolve(root, arg('--reports', 'reports/reliability')));
  const table = renderTable(reports);
  if (!argv.includes('--write') && !argv.includes('--check')) {
    process.stdout.write(`${table}\n`);
    return 0;
  }
  const readme = resolve(root, arg('--readme', 'README.md'));
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) {
    process.stderr.write(`${readme} has no ${START} … ${END} block\n`);
    return 1;
  }
  const next = `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`;
  if (argv.includes('--check')) {
    if (next !== text) {
      process.stderr.write(
        'README.md reliability table is out of date: run node scripts/reliability.mjs --write\n',
      );
      return 1;
    }
    return 0;
  }
  writeFileSync(readme, next);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
