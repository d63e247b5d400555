/**
 * Blob name encoding: how a portable key becomes an Azure blob name and back.
 *
 * Azure Blob Storage (and the HTTP stack in front of it) cannot hold some names byte-exact:
 * control characters are dropped or break the XML listing, `\` becomes `/`, URL dot segments
 * (`a/../b`) are normalised away, and a segment ending in `.` loses the dot. And it lists names
 * in UTF-16 code-unit order, where U+E000–U+FFFF sort after the supplementary characters,
 * while the portable contract is UTF-8 byte order. The adapter therefore rewrites exactly those
 * characters, so that every other key — the usual case — is stored under its own name:
 *
 * | key character                               | blob name                                   |
 * |---------------------------------------------|---------------------------------------------|
 * | U+0000–U+001F                               | U+2400–U+241F (␀ … ␟)                       |
 * | U+007F                                      | U+2421 (␡)                                  |
 * | `\`                                         | U+FF3C (＼)                                 |
 * | `.` followed by `/` or at the end           | U+FF0E (．)                                 |
 * | U+0080–U+009F                               | U+201F (‟) + U+2400–U+241F                  |
 * | U+FFFE, U+FFFF                              | U+201F (‟) + U+2422, U+2423                 |
 * | U+D7FF and U+E000–U+FFFD                    | U+D7FF + the character                      |
 * | U+201B, U+201F, U+2400–U+2423               | U+201B (‛) + the character                  |
 *
 * The U+D7FF prefix moves U+E000–U+FFFD below the surrogates, so the service's UTF-16 order of
 * names is the UTF-8 order of keys for every key without replaced characters. Every key
 * character becomes at most as many UTF-16 units as it has UTF-8 bytes, so any key of ≤ 1024
 * bytes gives a name within Azure's 1,024-character limit. Keys with replaced characters (the
 * first rows) list at the position of their replacement.
 */

const QUOTE = 0x201b; // ‛ : the next character is literal
const HIGH = 0x201f; // ‟ : the next character stands for a C1 control or U+FFFE/U+FFFF
const PICTURES = 0x2400; // ␀
const DEL_PICTURE = 0x2421; // ␡
const FFFE_PICTURE = 0x2422;
const FFFF_PICTURE = 0x2423;
const FULLWIDTH_DOT = 0xff0e; // ．
const FULLWIDTH_BACKSLASH = 0xff3c; // ＼
/** The last code point below the surrogates: prefixes U+E000–U+FFFD to sort them below supplementary characters. */
const LOW_LEAD = 0xd7ff;

/** Characters that are quoted with U+201B when they appear in a key. */
function isQuoted(cp: number): boolean {
  return (cp >= PICTURES && cp <= FFFF_PICTURE) || cp === QUOTE || cp === HIGH;
}

/** Characters of a key that the encoding does not keep as they are (in some position). */
export function isSpecialChar(cp: number): boolean {
  return (
    cp <= 0x1f ||
    cp === 0x7f ||
    (cp >= 0x80 && cp <= 0x9f) ||
    cp === 0x5c ||
    cp === 0x2e ||
    (cp >= LOW_LEAD && cp <= 0xffff) ||
    isQuoted(cp)
  );
}

/** Whether every character of `s` is stored as itself wherever it appears. */
export function isPlain(s: string): boolean {
  for (const ch of s) if (isSpecialChar(ch.codePointAt(0)!)) return false;
  return true;
}

/** Key → blob name. */
export function encodeBlobName(key: string): string {
  let out = '';
  const n = key.length;
  for (let i = 0; i < n; i++) {
    const cp = key.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      // A supplementary character: kept as its surrogate pair.
      out += key[i]! + key[i + 1]!;
      i++;
    } else if (cp <= 0x1f) out += String.fromCharCode(PICTURES + cp);
    else if (cp === 0x7f) out += String.fromCharCode(DEL_PICTURE);
    else if (cp === 0x5c) out += String.fromCharCode(FULLWIDTH_BACKSLASH);
    else if (cp === 0x2e)
      out += i + 1 === n || key.charCodeAt(i + 1) === 0x2f ? String.fromCharCode(FULLWIDTH_DOT) : '.';
    else if (cp >= 0x80 && cp <= 0x9f) out += String.fromCharCode(HIGH, PICTURES + (cp - 0x80));
    else if (cp === 0xfffe) out += String.fromCharCode(HIGH, FFFE_PICTURE);
    else if (cp === 0xffff) out += String.fromCharCode(HIGH, FFFF_PICTURE);
    else if (isQuoted(cp)) out += String.fromCharCode(QUOTE, cp);
    else if (cp === LOW_LEAD || cp >= 0xe000) out += String.fromCharCode(LOW_LEAD, cp);
    else out += key[i]!;
  }
  return out;
}

/** Blob name → key. Names written by other tools decode to themselves unless they hold the characters above. */
export function decodeBlobName(name: string): string {
  let out = '';
  const n = name.length;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    const d = i + 1 < n ? name.charCodeAt(i + 1) : -1;
    if (c === QUOTE && isQuoted(d)) {
      out += String.fromCharCode(d);
      i++;
    } else if (c === HIGH && d >= PICTURES && d <= PICTURES + 0x1f) {
      out += String.fromCharCode(0x80 + (d - PICTURES));
      i++;
    } else if (c === HIGH && (d === FFFE_PICTURE || d === FFFF_PICTURE)) {
      out += String.fromCharCode(d === FFFE_PICTURE ? 0xfffe : 0xffff);
      i++;
    } else if (c === LOW_LEAD && (d === LOW_LEAD || d >= 0xe000)) {
      out += String.fromCharCode(d);
      i++;
    } else if (c >= PICTURES && c <= PICTURES + 0x1f) out += String.fromCharCode(c - PICTURES);
    else if (c === DEL_PICTURE) out += '\x7f';
    else if (c === FULLWIDTH_BACKSLASH) out += '\\';
    else if (c === FULLWIDTH_DOT) out += '.';
    else out += name[i]!;
  }
  return out;
}

/**
 * How to list keys under `prefix`: the blob-name prefix to send, and whether results must be
 * filtered by their decoded key (a prefix ending in `.` cannot know yet whether the dot will be
 * followed by `/`, so the dots are left off the server prefix).
 */
export function encodeListPrefix(prefix: string): { serverPrefix: string; filter: boolean } {
  let stem = prefix;
  while (stem.endsWith('.')) stem = stem.slice(0, -1);
  if (stem.length === prefix.length) return { serverPrefix: encodeBlobName(prefix), filter: false };
  // The stem's own characters are settled: it ends with a character other than '.'.
  return { serverPrefix: stem === '' ? '' : encodeBlobName(stem), filter: true };
}
