import { invalidArgument, isPolycloudError } from '../errors.js';
import { fromUtf8, utf8 } from '../internal/bytes.js';

/** Turns message bodies into bytes and back. */
export interface Codec<T> {
  /** Turns a value into the message body; throw INVALID_ARGUMENT for values it cannot carry. */
  encode(value: T): Uint8Array;
  /**
   * Turns a received body back into a value. Runs when `message.body` is first read, so a throw
   * fails that one message (in a consumer: its handler), not the receive.
   */
  decode(bytes: Uint8Array): T;
}

function isBinary(v: unknown): boolean {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer;
}

const BINARY_HINT =
  'JSON would turn it into {"0":…,"1":…}; send bytes through queue.withCodec(bytesCodec), or base64-encode them into a string';

/**
 * The default: JSON text in UTF-8. Binary values (Uint8Array, Buffer, ArrayBuffer, DataView),
 * at the top or nested, are refused with INVALID_ARGUMENT instead of being turned into an
 * object of indices: use `bytesCodec` for raw bytes.
 */
export const jsonCodec: Codec<unknown> = {
  encode(value) {
    if (isBinary(value)) throw invalidArgument(`message body is binary (${kind(value)}); ${BINARY_HINT}`);
    let text: string | undefined;
    try {
      text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
        // `this[key]` is the value before toJSON() (Buffer turns itself into {type, data}).
        const before = key === '' ? v : (this as Record<string, unknown>)[key];
        if (isBinary(before) || isBinary(v)) {
          throw invalidArgument(
            `message body has a binary value at "${key}" (${kind(before)}); ${BINARY_HINT}`,
          );
        }
        return v;
      });
    } catch (err) {
      if (isPolycloudError(err)) throw err;
      throw invalidArgument(
        `message body is not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    if (text === undefined)
      throw invalidArgument('message body is not JSON-serialisable (undefined or a function)');
    return utf8(text);
  },
  decode(bytes) {
    return JSON.parse(fromUtf8(bytes)) as unknown;
  },
};

function kind(v: unknown): string {
  return (v as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof v;
}

/** Raw bytes, unchanged. */
export const bytesCodec: Codec<Uint8Array> = {
  encode(value) {
    if (!(value instanceof Uint8Array))
      throw invalidArgument('bytesCodec: message body must be a Uint8Array');
    return value;
  },
  decode: (bytes) => bytes,
};

/** UTF-8 text. */
export const textCodec: Codec<string> = {
  encode(value) {
    if (typeof value !== 'string') throw invalidArgument('textCodec: message body must be a string');
    return utf8(value);
  },
  decode: (bytes) => fromUtf8(bytes),
};
