import { invalidArgument } from '../errors.js';
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

/** The default: JSON text in UTF-8. */
export const jsonCodec: Codec<unknown> = {
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined)
      throw invalidArgument('message body is not JSON-serialisable (undefined or a function)');
    return utf8(text);
  },
  decode(bytes) {
    return JSON.parse(fromUtf8(bytes)) as unknown;
  },
};

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
