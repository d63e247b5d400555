import type { Hash } from 'node:crypto';
import { requireBuiltin } from './builtins.js';
import { toBase64 } from './bytes.js';

const { createHash } = requireBuiltin('node:crypto') as typeof import('node:crypto');

// Built on first use, not at import: 2,048 interpreted loop steps every adapter would pay at
// start-up (cold start) though few calls compute a CRC32C.
let crc32cTable: Uint32Array | undefined;
function crc32cTableOnce(): Uint32Array {
  if (crc32cTable !== undefined) return crc32cTable;
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  crc32cTable = t;
  return t;
}

/** Incremental CRC32C (Castagnoli), the checksum Cloud Storage and S3 use. */
export class Crc32c {
  private crc = 0xffffffff;
  /** Feeds the next chunk; returns this so calls chain. */
  update(b: Uint8Array): this {
    const table = crc32cTableOnce();
    let c = this.crc;
    for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }
  /** Big-endian 4 bytes, base64 — the form the cloud APIs exchange. */
  digestBase64(): string {
    const v = (this.crc ^ 0xffffffff) >>> 0;
    return toBase64(new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]));
  }
}

/** MD5 and CRC32C computed as bytes stream past, so verifying never buffers the body. */
export class BodyDigests {
  private readonly md5: Hash | undefined;
  private readonly crc: Crc32c | undefined;
  constructor(want: { md5?: boolean; crc32c?: boolean }) {
    this.md5 = want.md5 ? createHash('md5') : undefined;
    this.crc = want.crc32c ? new Crc32c() : undefined;
  }
  /** Feeds the next chunk of the body to every digest asked for. */
  update(b: Uint8Array): void {
    this.md5?.update(b);
    this.crc?.update(b);
  }
  /** The base64 digests of everything fed so far, in the form provider headers carry them. */
  result(): { md5?: string; crc32c?: string } {
    return {
      ...(this.md5 ? { md5: this.md5.digest('base64') } : {}),
      ...(this.crc ? { crc32c: this.crc.digestBase64() } : {}),
    };
  }
}

/** The MD5 of a whole buffer as base64, the form of S3 `Content-MD5` and GCS `md5Hash`. */
export function md5Base64(b: Uint8Array): string {
  return createHash('md5').update(b).digest('base64');
}
