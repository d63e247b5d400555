import { invalidArgument } from '../errors.js';
import { fromUtf8, utf8, utf8Length } from '../internal/bytes.js';
import type { KvValue } from './types.js';

const TAG_JSON = 0x6a; // 'j'
const TAG_BYTES = 0x62; // 'b'

/**
 * Encodes a value as tagged bytes, for drivers that store bytes only: one tag byte (JSON or
 * raw bytes) then the payload. Round-trips every KvValue exactly.
 */
export function encodeKvValue(value: KvValue): Uint8Array {
  if (value instanceof Uint8Array) {
    const out = new Uint8Array(value.byteLength + 1);
    out[0] = TAG_BYTES;
    out.set(value, 1);
    return out;
  }
  const json = utf8(JSON.stringify(value));
  const out = new Uint8Array(json.byteLength + 1);
  out[0] = TAG_JSON;
  out.set(json, 1);
  return out;
}

/**
 * Decodes bytes written by {@link encodeKvValue}. Bytes without a known tag are
 * INVALID_ARGUMENT: they were not written through polycloud.
 */
export function decodeKvValue(bytes: Uint8Array): KvValue {
  const tag = bytes[0];
  if (tag === TAG_BYTES) return bytes.slice(1);
  if (tag === TAG_JSON) return JSON.parse(fromUtf8(bytes.subarray(1))) as KvValue;
  throw invalidArgument('stored value has an unknown encoding tag; was it written by polycloud?');
}

/** Size the contract counts against maxValueBytes: bytes, or the UTF-8 JSON text. */
export function kvValueSize(value: KvValue): number {
  if (value instanceof Uint8Array) return value.byteLength;
  return utf8Length(JSON.stringify(value));
}

/**
 * An upper bound of {@link kvValueSize} (exact for bytes), or undefined when `value` is not one
 * {@link checkKvValue} accepts. One walk without messages or paths, so a store checks and sizes
 * a value on every write without serialising it: only a value whose bound exceeds a limit needs
 * the exact size. The bound counts every string UTF-16 unit as 6 bytes (the longest JSON escape)
 * and every number as 25 characters (the longest a double prints as, e.g. -0.0000012345678901234567).
 */
export function kvValueBound(value: unknown): number | undefined {
  if (value instanceof Uint8Array) return value.byteLength;
  return jsonBound(value, []);
}

function jsonBound(v: unknown, parents: object[]): number | undefined {
  if (v === null) return 4;
  switch (typeof v) {
    case 'string':
      return 6 * v.length + 2;
    case 'boolean':
      return 5;
    case 'number':
      return Number.isFinite(v) ? 25 : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  const o = v as object;
  if (parents.includes(o)) return undefined;
  parents.push(o);
  let n = 2;
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const b = jsonBound(o[i], parents);
      if (b === undefined) return undefined;
      n += b + 1;
    }
  } else {
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) return undefined;
    for (const k of Object.keys(o)) {
      const x = (o as Record<string, unknown>)[k];
      // An undefined property is absent, as JSON drops it: `{ expires: cond ? d : undefined }`.
      if (x === undefined) continue;
      const b = jsonBound(x, parents);
      if (b === undefined) return undefined;
      n += 6 * k.length + 4 + b;
    }
  }
  parents.pop();
  return n;
}

/**
 * Throws INVALID_ARGUMENT unless `value` survives a JSON round trip unchanged (or is bytes).
 * An object property whose value is undefined counts as absent (JSON drops it, and a reader
 * gets the object without it); an undefined array element or top-level value is rejected.
 */
export function checkKvValue(value: unknown, where: string): asserts value is KvValue {
  if (value instanceof Uint8Array) return;
  const problem = jsonProblem(value, 'value', new Set());
  if (problem)
    throw invalidArgument(`${where}: ${problem}; values are JSON-serialisable data or a Uint8Array`);
}

function jsonProblem(v: unknown, path: string, seen: Set<object>): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined;
  if (typeof v === 'number')
    return Number.isFinite(v) ? undefined : `${path} is ${v}, which JSON cannot hold`;
  if (typeof v === 'object') {
    if (seen.has(v)) return `${path} is a circular reference`;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = jsonProblem(v[i], `${path}[${i}]`, seen);
        if (p) return p;
      }
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        return `${path} is a ${(v as object).constructor?.name ?? 'class instance'}, not plain data`;
      }
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        const p = jsonProblem(x, `${path}.${k}`, seen);
        if (p) return p;
      }
    }
    seen.delete(v);
    return undefined;
  }
  return `${path} is ${typeof v}`;
}
