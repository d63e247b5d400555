#!/usr/bin/env node
/**
 * Builds the compatibility matrix from the conformance reports.
 *
 *   node scripts/matrix.mjs                 print the Markdown to stdout
 *   node scripts/matrix.mjs --write         replace the block between <!-- matrix:start -->
 *                                           and <!-- matrix:end --> in README.md
 *   node scripts/matrix.mjs --check         exit 1 when README.md's block is out of date
 *   options: --reports <dir> (default reports/conformance), --readme <file> (default README.md)
 *
 * Reports are the JSON files the suites write (see docs/conformance.md):
 *   { adapter, service, emulator, source?, tests: [{ name, outcome, reason }] }
 * (source: where the emulator came from: process, container or provided; null without one)
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignMarkdownTables } from './md-table.mjs';

export const START = '<!-- matrix:start -->';
export const END = '<!-- matrix:end -->';

/** Cell for each outcome. */
export const SYMBOLS = Object.freeze({
  passed: '✅',
  unsupported: '➖',
  'emulator-gap': '⚠️',
  failed: '❌',
  'not-run': '·',
});

const OUTCOMES = /** @type {const} */ (['passed', 'unsupported', 'emulator-gap', 'failed', 'not-run']);
const SERVICES = ['blob', 'queue', 'kv', 'functions'];
const SERVICE_TITLES = { blob: 'Blob storage', queue: 'Queues', kv: 'Key-value', functions: 'Functions' };
const ADAPTER_ORDER = ['memory', 'local', 'aws', 'gcp', 'azure'];

/**
 * @typedef {{ name: string, outcome: 'passed'|'failed'|'unsupported'|'emulator-gap'|'not-run', reason: string|null }} TestRecord
 * @typedef {{ adapter: string, service: string, emulator: string|null, source?: string|null, tests: TestRecord[] }} Report
 * @typedef {Report & { reportName: string }} NamedReport
 */

/** The nearest directory at or above `from` whose package.json declares workspaces. */
export function findRepoRoot(from = process.cwd()) {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).workspaces !== undefined) return dir;
      } catch {
        // not the root
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/**
 * Reads every *.json report in `dir`, sorted by adapter (memory, local, aws, gcp, azure, then
 * others) and report name. Malformed files are an error naming the file.
 * @param {string} dir
 * @returns {NamedReport[]}
 */
export function loadReports(dir) {
  if (!existsSync(dir)) return [];
  const reports = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const path = join(dir, f);
      let json;
      try {
        json = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new Error(`${path}: not JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      validateReport(json, path);
      return { ...json, reportName: basename(f, '.json') };
    });
  return sortReports(reports);
}

/** @param {unknown} json @param {string} where */
export function validateReport(json, where) {
  const r = /** @type {Partial<Report>} */ (json);
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.adapter !== 'string' ||
    typeof r.service !== 'string' ||
    !Array.isArray(r.tests)
  ) {
    throw new Error(`${where}: not a conformance report ({ adapter, service, emulator, tests })`);
  }
  for (const t of r.tests) {
    if (typeof t?.name !== 'string' || !OUTCOMES.includes(t.outcome)) {
      throw new Error(`${where}: malformed test entry ${JSON.stringify(t)}`);
    }
  }
}

/** @param {NamedReport[]} reports */
export function sortReports(reports) {
  const rank = (a) => {
    const i = ADAPTER_ORDER.indexOf(a);
    return i < 0 ? ADAPTER_ORDER.length : i;
  };
  return [...reports].sort(
    (a, b) =>
      rank(a.adapter) - rank(b.adapter) ||
      a.adapter.localeCompare(b.adapter) ||
      a.reportName.localeCompare(b.reportName),
  );
}

/** @param {Report} r */
export function counts(r) {
  const c = { passed: 0, unsupported: 0, 'emulator-gap': 0, failed: 0, 'not-run': 0 };
  for (const t of r.tests) c[t.outcome]++;
  return c;
}

/** Capabilities named by a test's `unsupported` reason (several are joined with ", "). */
export function capabilitiesOf(reason) {
  return (reason ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * One cell per capability and report: the capability's tests are those any report marked
 * unsupported for it; in a report where they ran, any failure shows ❌, else any gap ⚠️,
 * all unsupported ➖, all not run ·, otherwise ✅.
 * @param {NamedReport[]} reports of one service
 * @returns {{ capability: string, cells: string[] }[]}
 */
export function capabilityRows(reports) {
  /** @type {Map<string, Set<string>>} */
  const testsByCap = new Map();
  for (const r of reports) {
    for (const t of r.tests) {
      if (t.outcome !== 'unsupported') continue;
      for (const cap of capabilitiesOf(t.reason)) {
        if (!testsByCap.has(cap)) testsByCap.set(cap, new Set());
        testsByCap.get(cap)?.add(t.name);
      }
    }
  }
  return [...testsByCap.keys()].sort().map((capability) => {
    const names = testsByCap.get(capability) ?? new Set();
    const cells = reports.map((r) => {
      const outcomes = r.tests.filter((t) => names.has(t.name)).map((t) => t.outcome);
      if (outcomes.length === 0) return SYMBOLS['not-run'];
      if (outcomes.includes('failed')) return SYMBOLS.failed;
      if (outcomes.includes('emulator-gap')) return SYMBOLS['emulator-gap'];
      if (outcomes.every((o) => o === 'not-run')) return SYMBOLS['not-run'];
      const ran = outcomes.filter((o) => o !== 'not-run');
      if (ran.every((o) => o === 'unsupported')) return SYMBOLS.unsupported;
      return SYMBOLS.passed;
    });
    return { capability, cells };
  });
}

/** Escapes a table cell. @param {string} s */
function cell(s) {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** @param {string[]} header @param {string[][]} rows @param {string[]} [align] */
function table(header, rows, align) {
  const sep = header.map((_, i) => align?.[i] ?? '---');
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** @param {NamedReport} r */
function columnTitle(r) {
  const under = [r.emulator, r.runtime, r.source].filter(Boolean).join(', ');
  return `${r.reportName}${under ? `<br><sub>${under}</sub>` : ''}`;
}

/**
 * The Markdown that goes between the markers.
 * @param {NamedReport[]} reports
 * @param {{ details?: boolean }} [opts] wrap per-test tables in <details> (default true)
 */
export function renderMatrix(reports, opts = {}) {
  const details = opts.details ?? true;
  if (reports.length === 0) {
    return '_No conformance reports yet: run `npm test`, then `node scripts/matrix.mjs --write`._';
  }
  const out = [];
  out.push(
    `Legend: ${SYMBOLS.passed} passed · ${SYMBOLS.unsupported} capability not declared (and rejected with \`UNSUPPORTED\`) · ` +
      `${SYMBOLS['emulator-gap']} emulator gap (documented difference of the emulator, not of the service) · ` +
      `${SYMBOLS.failed} failed · ${SYMBOLS['not-run']} not run. See [docs/conformance.md](docs/conformance.md).`,
  );
  out.push('');
  out.push('#### Summary');
  out.push('');
  out.push(
    table(
      [
        'report',
        'adapter',
        'service',
        'emulator',
        'source',
        SYMBOLS.passed,
        SYMBOLS.unsupported,
        SYMBOLS['emulator-gap'],
        SYMBOLS.failed,
        SYMBOLS['not-run'],
        'tests',
      ],
      reports.map((r) => {
        const c = counts(r);
        return [
          `\`${r.reportName}\``,
          r.adapter,
          r.service,
          [r.emulator, r.runtime].filter(Boolean).join(' + ') || '—',
          r.source ?? '—',
          String(c.passed),
          String(c.unsupported),
          String(c['emulator-gap']),
          String(c.failed),
          String(c['not-run']),
          String(r.tests.length),
        ];
      }),
      ['---', '---', '---', '---', '---', '--:', '--:', '--:', '--:', '--:', '--:'],
    ),
  );

  const services = [
    ...SERVICES,
    ...new Set(reports.map((r) => r.service).filter((s) => !SERVICES.includes(s))),
  ];
  for (const service of services) {
    const rs = reports.filter((r) => r.service === service);
    if (rs.length === 0) continue;
    const title = SERVICE_TITLES[service] ?? service;
    out.push('');
    out.push(`#### ${title}`);
    out.push('');
    const summary = rs.map((r) => {
      const c = counts(r);
      const ran = r.tests.length - c['not-run'];
      return ran === 0 ? SYMBOLS['not-run'] : `${c.passed}/${ran - c.unsupported}`;
    });
    const caps = capabilityRows(rs);
    out.push(
      table(
        ['', ...rs.map(columnTitle)],
        [
          ['**passed / applicable**', ...summary],
          ...caps.map((row) => [`\`${row.capability}\``, ...row.cells]),
        ],
        ['---', ...rs.map(() => ':-:')],
      ),
    );

    const names = [];
    const seen = new Set();
    for (const r of rs) {
      for (const t of r.tests) {
        if (!seen.has(t.name)) {
          seen.add(t.name);
          names.push(t.name);
        }
      }
    }
    const byReport = rs.map((r) => new Map(r.tests.map((t) => [t.name, t])));
    const perTest = table(
      ['test', ...rs.map((r) => r.reportName)],
      names.map((name) => [
        cell(name),
        ...byReport.map((m) => {
          const t = m.get(name);
          return t ? SYMBOLS[t.outcome] : SYMBOLS['not-run'];
        }),
      ]),
      ['---', ...rs.map(() => ':-:')],
    );
    out.push('');
    if (details) {
      out.push(`<details><summary>${title}: all ${names.length} tests</summary>`);
      out.push('');
    }
    out.push(perTest);

    const gaps = new Map();
    for (const r of rs) {
      for (const t of r.tests) {
        if (t.outcome !== 'emulator-gap' || !t.reason) continue;
        const key = `${r.emulator ?? '?'}|${t.reason}`;
        if (!gaps.has(key)) gaps.set(key, { emulator: r.emulator, reason: t.reason, tests: new Set() });
        gaps.get(key).tests.add(t.name);
      }
    }
    const failures = [];
    for (const r of rs) {
      for (const t of r.tests)
        if (t.outcome === 'failed') failures.push(`\`${r.reportName}\` — ${cell(t.name)}`);
    }
    if (gaps.size > 0) {
      out.push('');
      out.push('Emulator gaps:');
      out.push('');
      for (const g of gaps.values()) {
        out.push(`- ${g.emulator ?? '?'}: ${cell(g.reason)} (${[...g.tests].map(cell).join('; ')})`);
      }
    }
    if (failures.length > 0) {
      out.push('');
      out.push(`Failing: ${failures.length} (see the reports for reasons).`);
    }
    if (details) {
      out.push('');
      out.push('</details>');
    }
  }
  return out.join('\n');
}

/**
 * Replaces what is between the markers (keeping the markers).
 * @param {string} text @param {string} block
 */
export function replaceBlock(text, block) {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`the file has no ${START} … ${END} block`);
  }
  return `${text.slice(0, start + START.length)}\n${block}\n${text.slice(end)}`;
}

/**
 * Formats Markdown with the repository's Biome (so `biome check` accepts the README as
 * written); returns the text unchanged where Biome is not installed or fails.
 * @param {string} markdown @param {string} root
 */
export function formatMarkdown(markdown, _root) {
  return alignMarkdownTables(markdown);
}

/** @param {string[]} argv */
function parseArgs(argv) {
  const args = { write: false, check: false, reports: undefined, readme: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--write') args.write = true;
    else if (a === '--check') args.check = true;
    else if (a === '--reports') args.reports = argv[++i];
    else if (a === '--readme') args.readme = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node scripts/matrix.mjs [--write | --check] [--reports DIR] [--readme FILE]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}; try --help`);
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const root = findRepoRoot();
  const dir = resolve(root, args.reports ?? join('reports', 'conformance'));
  const block = formatMarkdown(renderMatrix(loadReports(dir)), root);
  if (!args.write && !args.check) {
    process.stdout.write(`${block}\n`);
    return;
  }
  const readme = resolve(root, args.readme ?? 'README.md');
  if (!existsSync(readme)) throw new Error(`${readme} does not exist`);
  const text = readFileSync(readme, 'utf8');
  const next = replaceBlock(text, block);
  if (args.check) {
    if (next !== text) {
      process.stderr.write(
        `${readme}: the compatibility matrix is out of date; run node scripts/matrix.mjs --write\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  if (next !== text) writeFileSync(readme, next);
  process.stdout.write(`${readme}: matrix ${next === text ? 'unchanged' : 'updated'} from ${dir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`matrix: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
