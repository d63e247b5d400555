import { invalidArgument, type PolycloudError } from '../errors.js';

/**
 * The error a binding raises for an event it cannot use: names the binding and the event, and
 * says what it expected, so a miswired trigger is found from the first log line.
 */
export function invalidEvent(
  binding: string,
  event: string,
  detail: string,
  cause?: unknown,
): PolycloudError {
  return invalidArgument(`${binding}: ${event} ${detail}`, {
    service: 'functions',
    operation: binding,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** A short description of a value for error messages, never its whole content. */
export function describeEvent(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).slice(0, 6);
    return `an object with keys [${keys.join(', ')}]`;
  }
  return `a ${typeof value}`;
}
