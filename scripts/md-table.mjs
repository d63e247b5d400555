// Aligns Markdown tables (pads cells to column width) so generated docs are stable and
// readable without a Markdown formatter. Display width counts emoji and CJK as two columns.

const WIDE =
  /[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}\u{2B00}-\u{2BFF}\u{3000}-\u{9FFF}\u{AC00}-\u{D7AF}\u{FF00}-\u{FF60}]/u;

function width(s) {
  let w = 0;
  for (const ch of s.replace(/\uFE0F/g, '')) w += WIDE.test(ch) ? 2 : 1;
  return w;
}

function cells(line) {
  const out = [];
  let cur = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cur += '\\|';
      i++;
    } else if (body[i] === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += body[i];
  }
  out.push(cur.trim());
  return out;
}

function alignTable(lines) {
  const rows = lines.map(cells);
  const n = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) =>
    Math.max(3, ...rows.filter((_, ri) => ri !== 1).map((r) => width(r[i] ?? ''))),
  );
  const align =
    rows[1]?.map((c) => (c.startsWith(':') && c.endsWith(':') ? 'c' : c.endsWith(':') ? 'r' : 'l')) ?? [];
  return rows.map((r, ri) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      const w = widths[i];
      const a = align[i] ?? 'l';
      if (ri === 1) {
        const dashes = '-'.repeat(Math.max(1, w - (a === 'c' ? 2 : a === 'r' ? 1 : 0)));
        out.push(a === 'c' ? `:${dashes}:` : a === 'r' ? `${dashes}:` : dashes);
        continue;
      }
      const c = r[i] ?? '';
      const pad = w - width(c);
      if (a === 'r') out.push(' '.repeat(pad) + c);
      else if (a === 'c') out.push(' '.repeat(Math.floor(pad / 2)) + c + ' '.repeat(Math.ceil(pad / 2)));
      else out.push(c + ' '.repeat(pad));
    }
    return `| ${out.join(' | ')} |`;
  });
}

/** Re-aligns every table in a Markdown text; other lines are untouched. */
export function alignMarkdownTables(markdown) {
  const lines = markdown.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; ) {
    if (
      lines[i].trimStart().startsWith('|') &&
      lines[i + 1] !== undefined &&
      /^\s*\|?\s*:?-+/.test(lines[i + 1])
    ) {
      const block = [];
      while (i < lines.length && lines[i].trimStart().startsWith('|')) block.push(lines[i++]);
      out.push(...alignTable(block));
    } else out.push(lines[i++]);
  }
  return out.join('\n');
}
