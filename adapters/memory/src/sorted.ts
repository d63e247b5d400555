/**
 * Keys kept in UTF-8 byte order. Each key is paired with a "byte string" (its UTF-8 bytes as
 * latin1 code units), so plain string comparison gives the byte order the contract promises
 * without encoding on every comparison.
 */
export class SortedKeys {
  private readonly keys: string[] = [];
  private readonly sortKeys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Adds `key` if it is not present. */
  add(key: string): void {
    const sk = byteString(key);
    const i = this.lowerBound(sk);
    if (this.sortKeys[i] === sk) return;
    this.keys.splice(i, 0, key);
    this.sortKeys.splice(i, 0, sk);
  }

  delete(key: string): void {
    const sk = byteString(key);
    const i = this.lowerBound(sk);
    if (this.sortKeys[i] !== sk) return;
    this.keys.splice(i, 1);
    this.sortKeys.splice(i, 1);
  }

  clear(): void {
    this.keys.length = 0;
    this.sortKeys.length = 0;
  }

  /**
   * Keys starting with `prefix`, in order, beginning strictly after `after` (or at the first
   * key with the prefix). With `skipUnder`, keys that start with `after` are skipped too (used
   * to resume a delimiter listing after a common prefix). Do not modify the set while iterating.
   */
  *scan(prefix: string, after: string | undefined, skipUnder = false): Generator<string> {
    const sp = byteString(prefix);
    let i = this.lowerBound(sp);
    if (after !== undefined) {
      // Byte strings only hold U+0000..U+00FF, so U+0100 sorts after every extension of `after`.
      const sa = byteString(after) + (skipUnder ? '\u0100' : '');
      i = Math.max(i, this.upperBound(sa));
    }
    for (; i < this.keys.length; i++) {
      const sk = this.sortKeys[i]!;
      if (!sk.startsWith(sp)) return;
      yield this.keys[i]!;
    }
  }

  /** Snapshot of all keys in order. */
  all(): string[] {
    return [...this.keys];
  }

  /** First index whose sort key is >= sk. */
  private lowerBound(sk: string): number {
    let lo = 0;
    let hi = this.sortKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortKeys[mid]! < sk) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose sort key is > sk. */
  private upperBound(sk: string): number {
    let lo = 0;
    let hi = this.sortKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortKeys[mid]! <= sk) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The UTF-8 bytes of `s` as a latin1 string: comparing these compares the bytes. */
export function byteString(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}
