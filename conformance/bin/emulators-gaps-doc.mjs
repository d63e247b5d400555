#!/usr/bin/env node
// Regenerates the gap table of docs/emulators.md from EMULATOR_GAPS
// (conformance/src/emulators/gaps.ts), between the gaps:start and gaps:end markers.
//   node conformance/bin/emulators-gaps-doc.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importTs } from './load-ts.mjs';

const { EMULATOR_GAPS } = await importTs('../src/emulators/gaps.ts');
const doc = fileURLToPath(new URL('../../docs/emulators.md', import.meta.url));

const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
function link(reference) {
  const url = /^https?:\/\/\S+/.exec(reference)?.[0];
  if (!url) return cell(reference);
  const rest = cell(reference.slice(url.length).trim());
  const gh = /^https:\/\/github\.com\/([^/]+)\/([^/#]+)(?:\/(issues|pull)\/(\d+)|\/blob\/[^/]+\/(.+))?/.exec(
    url,
  );
  let label;
  if (gh?.[4]) label = `${gh[2]}#${gh[4]}`;
  else if (gh?.[5]) label = `${gh[2]}: ${gh[5]}`;
  else if (gh) label = gh[2];
  else label = new URL(url).pathname.split('/').filter(Boolean).pop() ?? new URL(url).hostname;
  return `[${cell(label)}](${url})${rest ? ` ${rest}` : ''}`;
}

const rows = EMULATOR_GAPS.map((g) =>
  [
    `\`${g.id}\``,
    cell(g.verified ?? g.emulator),
    cell(g.description),
    g.tests.length ? g.tests.map((t) => `\`${cell(t)}\``).join(', ') : '–',
    link(g.reference),
  ].join(' | '),
);
const table = [
  '| id | emulator | what differs | excuses | source |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r} |`),
].join('\n');

const text = readFileSync(doc, 'utf8');
const start = text.indexOf('<!-- gaps:start');
const end = text.indexOf('<!-- gaps:end -->');
if (start < 0 || end < 0) throw new Error('docs/emulators.md has no gaps:start/gaps:end markers');
const startLineEnd = text.indexOf('\n', start) + 1;
writeFileSync(doc, `${text.slice(0, startLineEnd)}\n${table}\n\n${text.slice(end)}`);
console.log(`docs/emulators.md: ${EMULATOR_GAPS.length} gaps`);
