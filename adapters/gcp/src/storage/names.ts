/**
 * Object-name encoding for Cloud Storage. The portable contract accepts any well-formed UTF-8
 * key; Cloud Storage refuses names containing CR or LF, the names "." and "..", and names
 * starting with ".well-known/acme-challenge/". Keys without those (nearly all) are stored
 * unchanged. The others are rewritten with a reversible, character-wise code built on
 * X = U+10FFFF, the largest code point, chosen so that listing order is kept:
 *
 *   literal X          → X U+0001
 *   LF (0x0A)          → TAB X X        ("the character before, plus one")
 *   CR (0x0D)          → U+000C X X
 *   the "/" ending a leading ".well-known/acme-challenge/" → "." X X
 *   whole key "." or ".." → the key followed by X U+0002
 *
 * `c X X` sorts after every `c…` name and before `c+1`, exactly where the original character
 * sorted, so listings stay in UTF-8 byte order (the "." and ".." keys excepted: they sort after
 * their extensions instead of before them), and every prefix of a key is a prefix of its name
 * once encoded the same way. Such keys take more bytes (X is 4 bytes) toward the 1024-byte
 * name limit.
 */

const X = '\u{10FFFF}';
const LITERAL = '\u0001';
const EMPTY = '\u0002';
const ACME = '.well-known/acme-challenge/';

function needsWork(s: string): boolean {
  return (
    s.includes('\n') || s.includes('\r') || s.includes(X) || s.startsWith(ACME) || s === '.' || s === '..'
  );
}

function charwise(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\n') out += `\t${X}${X}`;
    else if (ch === '\r') out += `\f${X}${X}`;
    else if (ch === X) out += `${X}${LITERAL}`;
    else out += ch;
  }
  if (out.startsWith(ACME)) out = `${ACME.slice(0, -1)}.${X}${X}${out.slice(ACME.length)}`;
  return out;
}

/** The object name a key is stored under. */
export function encodeKey(key: string): string {
  if (!needsWork(key)) return key;
  if (key === '.' || key === '..') return `${key}${X}${EMPTY}`;
  return charwise(key);
}

/** The name prefix that selects every key starting with `prefix` (callers re-check: see `decodeName`). */
export function encodePrefix(prefix: string): string {
  return needsWork(prefix) && prefix !== '.' && prefix !== '..' ? charwise(prefix) : prefix;
}

/** The delimiter as it appears inside encoded names. */
export function encodeDelimiter(delimiter: string): string {
  return needsWork(delimiter) && delimiter !== '.' && delimiter !== '..' ? charwise(delimiter) : delimiter;
}

/**
 * The key an object name stands for. Names not made by `encodeKey` (no X in them) are
 * returned as they are.
 */
export function decodeName(name: string): string {
  if (!name.includes(X)) return name;
  const cps = Array.from(name);
  let out = '';
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i]!;
    const next = cps[i + 1];
    if (ch === X) {
      if (next === LITERAL) {
        out += X;
        i++;
        continue;
      }
      if (next === EMPTY) {
        i++;
        continue;
      }
      out += ch;
      continue;
    }
    if (next === X && cps[i + 2] === X) {
      out += String.fromCodePoint(ch.codePointAt(0)! + 1);
      i += 2;
      continue;
    }
    out += ch;
  }
  return out;
}
