/** Markdown tables of result rows. */
import { formatMs, formatRatio, formatSize } from './common.js';
import { type Row, verdict } from './results.js';

function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  return formatMs(x);
}

const band = (n: readonly [number, number]) => `${formatRatio(n[0])}..${formatRatio(n[1])}`;

/** A markdown table; one line per row. */
export function rowsTable(rows: readonly Row[]): string {
  const header = [
    'provider',
    'operation',
    'size',
    'conc',
    'baseline',
    'raw',
    'polycloud',
    'unit',
    'ratio',
    'noise',
    'CPU µs raw/pc',
    'CPU ratio',
    'CPU noise',
    'p50/p99 ms raw',
    'p50/p99 ms pc',
    'goal',
    '',
  ];
  const lines = rows.map((r) => {
    const v = verdict(r);
    const flag = v.counts || v.cpuCounts ? 'MISS' : v.above || v.cpuAbove ? 'above, within noise' : '';
    const lat = (x: { p50: number; p99: number } | undefined) =>
      x ? `${formatMs(x.p50)} / ${formatMs(x.p99)}` : '-';
    return [
      r.provider,
      r.operation,
      r.size === undefined ? '-' : formatSize(r.size),
      r.concurrency === undefined ? '-' : String(r.concurrency),
      r.baseline ?? '-',
      num(r.raw),
      num(r.polycloud),
      r.unit,
      formatRatio(r.ratio),
      band(r.noise),
      r.cpu ? `${r.cpu.raw.toFixed(0)} / ${r.cpu.polycloud.toFixed(0)}` : '-',
      r.cpu ? formatRatio(r.cpu.ratio) : '-',
      r.cpu ? band(r.cpu.noise) : '-',
      lat(r.latencyMs?.raw),
      lat(r.latencyMs?.polycloud),
      r.goal === undefined ? '-' : `≤ ${r.goal}`,
      flag,
    ];
  });
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines.map((l) => `| ${l.map(esc).join(' | ')} |`),
  ].join('\n');
}
